{#- Holdout bucket 0-99 of a membership (SPEC section 6): the first 8 hex digits of
    md5(segment_key || ':' || customer_id) as an unsigned integer, mod 100. -#}
{% macro holdout_bucket(segment_key, customer_id) -%}
    ({{ audience.hex8_to_bigint('substr(' ~ dbt.hash(segment_key ~ " || ':' || " ~ customer_id) ~ ', 1, 8)') }} % 100)
{%- endmacro %}

{% macro hex8_to_bigint(hex_expression) -%}
    {{ return(adapter.dispatch('hex8_to_bigint', 'audience')(hex_expression)) }}
{%- endmacro %}

{% macro default__hex8_to_bigint(hex_expression) -%}
    cast(('0x' || {{ hex_expression }}) as bigint)
{%- endmacro %}

{% macro postgres__hex8_to_bigint(hex_expression) -%}
    cast(cast(('x' || {{ hex_expression }}) as bit(32)) as bigint)
{%- endmacro %}

{% macro spark__hex8_to_bigint(hex_expression) -%}
    cast(conv({{ hex_expression }}, 16, 10) as bigint)
{%- endmacro %}
