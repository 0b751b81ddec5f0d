{#- Every non-null value of the column is a valid normalised email (SPEC section 2).
    Returns each offending email once: checking the distinct emails runs the pattern
    once per address, not once per row (47 M email events hold 0.7 M addresses). -#}
{% test valid_email(model, column_name) %}

with emails as (
    select distinct {{ column_name }} as email
    from {{ model }}
    where {{ column_name }} is not null
)

select email
from emails
where
    email <> {{ audience.normalise_email('email') }}
    or not {{ audience.is_valid_email('email') }}

{% endtest %}
