-- Per buyer: counted orders (all history up to the as-of date), first and last order
-- dates, the previous counted order before the last, days since those orders (as of
-- the as-of date), and the counts behaviour segments need.
{%- set vip_window_days = audience.number_var('vip_window_days') %}
with counted_orders as (
    select * from {{ ref('int_orders_valued') }}
    where is_counted
),

sequenced as (
    select
        customer_id,
        order_date,
        net_revenue_usd,
        has_discount,
        row_number() over (
            partition by customer_id
            order by ordered_at desc, order_id desc
        ) as recency_rank
    from counted_orders
),

aggregated as (
    select
        customer_id,
        count(*) as counted_orders,
        cast(sum(net_revenue_usd) as decimal(38, 2)) as net_revenue_usd,
        sum(case when has_discount then 1 else 0 end) as discounted_orders,
        sum(
            case
                when {{ audience.within_days('order_date', vip_window_days) }} then 1
                else 0
            end
        ) as orders_in_vip_window,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        max(case when recency_rank = 2 then order_date end) as previous_order_date
    from sequenced
    group by customer_id
),

final as (
    select
        *,
        {{ audience.days_before_as_of('first_order_date') }} as days_since_first_order,
        {{ audience.days_before_as_of('last_order_date') }} as days_since_last_order,
        {{ audience.days_between('previous_order_date', 'last_order_date') }}
            as days_between_last_orders
    from aggregated
)

select * from final
