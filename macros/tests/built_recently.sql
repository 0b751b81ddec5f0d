{#- The table was built within the last max_hours (its build timestamp column), whatever
    the as-of date it was built for. An empty table has nothing stale to report. -#}
{% test built_recently(model, column_name, max_hours=24) %}

select max({{ column_name }}) as last_built_at
from {{ model }}
having
    max({{ column_name }})
    < {{ dbt.dateadd('hour', -1 * max_hours, 'cast(' ~ dbt.current_timestamp() ~ ' as ' ~ dbt.type_timestamp() ~ ')') }}

{% endtest %}
