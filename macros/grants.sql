{#- Run at the end of every dbt run: the reader role may use schema marts (table grants
    come from the +grants config). Nothing on engines without roles. -#}
{% macro grant_marts_usage() -%}
    {{ return(adapter.dispatch('grant_marts_usage', 'audience')()) }}
{%- endmacro %}

{% macro default__grant_marts_usage() -%}
    {{ return('') }}
{%- endmacro %}

{% macro postgres__grant_marts_usage() -%}
    {%- if execute -%}
        grant usage on schema marts to {{ adapter.quote(var('bi_reader_role')) }}
    {%- endif -%}
{%- endmacro %}
