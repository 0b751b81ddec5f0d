{#- A test's `where` config, as dbt applies it (the tested relation filtered in a
    subquery), with one placeholder filled in when the test runs: __as_of_date__, the
    build's as-of date (audience.as_of_date). A yml config is rendered when the project
    is parsed, and a parse may be reused on a later day; the placeholder is read at run
    time. The history's tests check the date a run writes with it. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where | replace('__as_of_date__', audience.as_of_date() | trim) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
