-- On engines where dbt runs no Python (PostgreSQL): the expected order days per (x, t_x,
-- T) combination the Python model of the same name computes on DuckDB, as loaded for the
-- as-of date by audience.predictive.load_into_postgres into
-- predictive_loaded.expectations; no rows when nothing was loaded. Built after the
-- parameters, as on DuckDB:
-- depends_on: {{ ref('int_predictive_params_fitted') }}
{%- set loaded = adapter.get_relation(
    database=target.database, schema='predictive_loaded', identifier='expectations'
) if execute else none %}
{%- set double = audience.type_double() %}
{% if loaded is not none %}
    with final as (
        select
            cast(repeat_order_days as {{ dbt.type_int() }}) as repeat_order_days,
            cast(repeat_span_days as {{ dbt.type_int() }}) as repeat_span_days,
            cast(customer_age_days as {{ dbt.type_int() }}) as customer_age_days,
            cast(expected_orders_90d as {{ double }}) as expected_orders_90d,
            cast(expected_orders_365d as {{ double }}) as expected_orders_365d
        from {{ loaded }}
        where as_of_date = {{ audience.as_of_date() }}
    )
{% else %}
    with final as (
        select
            cast(null as {{ dbt.type_int() }}) as repeat_order_days,
            cast(null as {{ dbt.type_int() }}) as repeat_span_days,
            cast(null as {{ dbt.type_int() }}) as customer_age_days,
            cast(null as {{ double }}) as expected_orders_90d,
            cast(null as {{ double }}) as expected_orders_365d
        where 1 = 0
    )
{% endif %}

select * from final
