{#- Every non-null value of the column is a valid normalised email (SPEC section 2). -#}
{% test valid_email(model, column_name) %}

select {{ column_name }}
from {{ model }}
where
    {{ column_name }} is not null
    and (
        {{ column_name }} <> {{ audience.normalise_email(column_name) }}
        or not {{ audience.is_valid_email(column_name) }}
    )

{% endtest %}
