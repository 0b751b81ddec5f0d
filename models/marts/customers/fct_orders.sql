{{ config(materialized='view') }}
-- Every kept order placed on or before the as-of date, counted or not, with its net
-- revenue in USD. Counted: completed with net revenue above zero.
-- A view: the orders are valued once, upstream.
with orders as (
    select * from {{ ref('int_orders_valued') }}
),

final as (
    select
        {{ audience.as_of_date() }} as as_of_date,
        order_id,
        customer_id,
        shop_customer_id,
        status,
        currency_code,
        total_amount,
        discount_amount,
        refunded_amount,
        net_revenue_usd,
        is_counted,
        has_discount,
        order_date,
        ordered_at
    from orders
)

select * from final
