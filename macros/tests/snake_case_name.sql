{#- Every value of the column is a name as SPEC section 5 defines it: snake_case
    (^[a-z0-9]+(_[a-z0-9]+)*$) and at most max_length characters (63), so it is safe as
    a file name on every engine. Returns each bad name once, with its row count. Nulls
    pass (not_null tests them). Usable on any model. -#}
{% test snake_case_name(model, column_name, max_length=63) %}

select
    {{ column_name }} as bad_name,
    count(*) as rows_with_it
from {{ model }}
where
    {{ column_name }} is not null
    and (
        not {{ audience.regexp_matches(column_name, '^[a-z0-9]+(_[a-z0-9]+)*$') }}
        or length({{ column_name }}) > {{ max_length }}
    )
group by {{ column_name }}

{% endtest %}
