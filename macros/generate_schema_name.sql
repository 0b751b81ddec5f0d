{#- Models build into schemas named exactly as configured (staging, intermediate,
    marts, seeds), never prefixed with the target schema (SPEC section 8). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
