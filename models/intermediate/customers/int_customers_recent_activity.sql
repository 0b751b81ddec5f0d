-- Per customer, what happened in the windows segment performance reports on: counted
-- orders and their net revenue in the 90 days up to the as-of date, a counted order in
-- the last 30 days, the campaigns sent in the last 90 days with whether each was opened
-- or clicked (by the same customer, for the same campaign, on or before the as-of date),
-- and unsubscribes in the last 90 days (they carry no campaign). Customers with none of
-- these have no row.
with orders as (
    select * from {{ ref('int_orders_valued') }}
    where is_counted and customer_id is not null
),

unsubscribes as (
    select * from {{ ref('int_email_events_identified') }}
    where
        event_type = 'unsubscribe'
        and {{ audience.within_days('event_date', 90) }}
),

orders_per_customer as (
    select
        customer_id,
        count(*) as orders_90d,
        sum(net_revenue_usd) as net_revenue_90d_usd,
        max(case when {{ audience.within_days('order_date', 30) }} then 1 else 0 end)
            as has_order_30d
    from orders
    where {{ audience.within_days('order_date', 90) }}
    group by customer_id
),

campaign_sends as (
    select * from {{ ref('int_email_sends_as_of') }}
    where {{ audience.within_days('send_date', 90) }}
),

sends_per_customer as (
    select
        customer_id,
        count(*) as sends_90d,
        sum(case when is_opened then 1 else 0 end) as opened_sends_90d,
        sum(case when is_clicked then 1 else 0 end) as clicked_sends_90d
    from campaign_sends
    group by customer_id
),

unsubscribes_per_customer as (
    select
        customer_id,
        count(*) as unsubscribes_90d
    from unsubscribes
    group by customer_id
),

email_per_customer as (
    select
        coalesce(sends_per_customer.customer_id, unsubscribes_per_customer.customer_id)
            as customer_id,
        sends_per_customer.sends_90d,
        sends_per_customer.opened_sends_90d,
        sends_per_customer.clicked_sends_90d,
        unsubscribes_per_customer.unsubscribes_90d
    from sends_per_customer
    full outer join unsubscribes_per_customer
        on sends_per_customer.customer_id = unsubscribes_per_customer.customer_id
),

final as (
    select
        coalesce(orders_per_customer.customer_id, email_per_customer.customer_id)
            as customer_id,
        cast(coalesce(orders_per_customer.orders_90d, 0) as bigint) as orders_90d,
        cast(coalesce(orders_per_customer.net_revenue_90d_usd, 0) as decimal(38, 2))
            as net_revenue_90d_usd,
        coalesce(orders_per_customer.has_order_30d = 1, false) as has_order_30d,
        cast(coalesce(email_per_customer.sends_90d, 0) as bigint) as sends_90d,
        cast(coalesce(email_per_customer.opened_sends_90d, 0) as bigint) as opened_sends_90d,
        cast(coalesce(email_per_customer.clicked_sends_90d, 0) as bigint) as clicked_sends_90d,
        cast(coalesce(email_per_customer.unsubscribes_90d, 0) as bigint) as unsubscribes_90d
    from orders_per_customer
    full outer join email_per_customer
        on orders_per_customer.customer_id = email_per_customer.customer_id
)

select * from final
