-- Per buyer, what the predictive models read (SPEC section 11), over every counted order
-- up to the as-of date (whatever rfm_window_days says): an order day is a date with at
-- least one counted order, valued at the sum of that day's net revenue. x = order days
-- - 1, t_x = days from the first to the last order day, T = days from the first order
-- day to the as-of date, m = the mean value of the repeat order days (the first excluded).
with counted_orders as (
    select * from {{ ref('int_orders_valued') }}
    where is_counted
),

order_days as (
    select
        customer_id,
        order_date,
        sum(net_revenue_usd) as order_day_value_usd
    from counted_orders
    group by customer_id, order_date
),

numbered as (
    select
        customer_id,
        order_date,
        order_day_value_usd,
        row_number() over (partition by customer_id order by order_date) as order_day_number
    from order_days
),

summarised as (
    select
        customer_id,
        count(*) - 1 as repeat_order_days,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        sum(case when order_day_number > 1 then order_day_value_usd end) as repeat_value_usd
    from numbered
    group by customer_id
),

final as (
    select
        customer_id,
        cast(repeat_order_days as {{ dbt.type_int() }}) as repeat_order_days,
        cast(
            {{ audience.days_between('first_order_date', 'last_order_date') }}
            as {{ dbt.type_int() }}
        ) as repeat_span_days,
        cast({{ audience.days_before_as_of('first_order_date') }} as {{ dbt.type_int() }})
            as customer_age_days,
        cast(
            round(repeat_value_usd / nullif(repeat_order_days, 0), 6) as decimal(38, 6)
        ) as mean_repeat_order_day_value_usd
    from summarised
)

select * from final
