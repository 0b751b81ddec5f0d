{#- RFM score 1-5 (SPEC section 4): 1 + floor(5 * (rank - 1) / n), rank() ordered so that
    better is higher. Equal values share the lowest rank, hence the same score. The
    division is of integers below 5 * n, exact in double precision. -#}
{% macro score_1_to_5(order_by) -%}
    1 + cast(
            floor(
                5.0 * (rank() over (order by {{ order_by }}) - 1)
                / count(*) over ()
            ) as {{ dbt.type_int() }}
        )
{%- endmacro %}

{#- Whether an order date is inside the RFM window: the last rfm_window_days days, or
    all history when the var is null. -#}
{% macro in_rfm_window(date_expression) -%}
    {%- set window_days = audience.number_var('rfm_window_days') -%}
    {%- if window_days is none -%}
        true
    {%- else -%}
        {{ audience.within_days(date_expression, window_days) }}
    {%- endif -%}
{%- endmacro %}
