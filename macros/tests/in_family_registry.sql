{#- Every value of the column is a family of the registry (var segment_families); with
    exclusive_only, an exclusive one. Returns each other value with its row count. -#}
{% test in_family_registry(model, column_name, exclusive_only=false) %}

{%- set families = audience.exclusive_families() if exclusive_only else audience.segment_families().keys() | list %}

select
    {{ column_name }} as unknown_family,
    count(*) as rows_with_it
from {{ model }}
where
    {{ column_name }} is not null
    and {{ column_name }} not in ({{ audience.sql_string_list(families) }})
group by {{ column_name }}

{% endtest %}
