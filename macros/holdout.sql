{#- Holdout bucket 0-99 of a membership (SPEC section 6): the first 8 hex digits of
    md5(segment_key || ':' || customer_id) as an unsigned integer, mod 100. -#}
{% macro holdout_bucket(segment_key, customer_id) -%}
    {{ audience.md5_bucket(segment_key ~ " || ':' || " ~ customer_id) }}
{%- endmacro %}

{#- Global holdout bucket 0-99 of a customer (SPEC section 6): the first 8 hex digits of
    md5('global:' || customer_id) as an unsigned integer, mod 100. -#}
{% macro global_holdout_bucket(customer_id) -%}
    {{ audience.md5_bucket("'global:' || " ~ customer_id) }}
{%- endmacro %}

{#- True when the customer is in the global control group (never sent to). -#}
{% macro is_global_control(customer_id) -%}
    ({{ audience.global_holdout_bucket(customer_id) }} < {{ audience.number_var('global_holdout_pct') }})
{%- endmacro %}

{#- True when the membership is in its segment's control group. -#}
{% macro is_holdout_control(segment_family, segment, customer_id) -%}
    ({{ audience.holdout_bucket(segment_family ~ " || '.' || " ~ segment, customer_id) }}
    < {{ audience.number_var('holdout_pct') }})
{%- endmacro %}

{#- The first 8 hex digits of md5 of a string expression as an unsigned integer, mod 100. -#}
{% macro md5_bucket(string_expression) -%}
    ({{ audience.hex8_to_bigint('substr(' ~ dbt.hash(string_expression) ~ ', 1, 8)') }} % 100)
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
