-- One row per (customer, behaviour segment). The behaviour family is not exclusive: a
-- customer can be in several of vip, repeat_buyer, one_time_buyer, cart_abandoner,
-- bargain_hunter, engaged_non_buyer and winback.
{%- set cart_abandon_days = audience.number_var('cart_abandon_days') %}
{%- set vip_min_orders = audience.number_var('vip_min_orders') %}
{%- set repeat_buyer_min_orders = audience.number_var('repeat_buyer_min_orders') %}
{%- set bargain_min_orders = audience.number_var('bargain_min_orders') %}
{%- set bargain_min_discounted_share = audience.number_var('bargain_min_discounted_share') %}
with ordered as (
    select * from {{ ref('int_customers_ordered') }}
),

email_states as (
    select * from {{ ref('int_customers_email_states') }}
),

lifecycle as (
    select * from {{ ref('int_customers_lifecycle') }}
),

checkouts as (
    select * from {{ ref('int_checkouts_identified') }}
),

counted_orders as (
    select * from {{ ref('int_orders_valued') }}
    where is_counted
),

abandoned_checkouts as (
    select distinct checkouts.customer_id
    from checkouts
    where
        checkouts.completed_order_id is null
        and {{ audience.within_days('checkouts.created_date', cart_abandon_days) }}
        and not exists (
            select 1
            from counted_orders
            where
                counted_orders.customer_id = checkouts.customer_id
                and counted_orders.ordered_at >= checkouts.created_at
        )
),

members as (
    select
        customer_id,
        'vip' as segment
    from ordered
    where orders_in_vip_window >= {{ vip_min_orders }}
    union all
    select
        customer_id,
        'repeat_buyer' as segment
    from ordered
    where counted_orders >= {{ repeat_buyer_min_orders }}
    union all
    select
        customer_id,
        'one_time_buyer' as segment
    from ordered
    where counted_orders = 1
    union all
    select
        customer_id,
        'cart_abandoner' as segment
    from abandoned_checkouts
    union all
    select
        customer_id,
        'bargain_hunter' as segment
    from ordered
    where
        counted_orders >= {{ bargain_min_orders }}
        and discounted_orders >= {{ bargain_min_discounted_share }} * counted_orders
    union all
    select
        email_states.customer_id,
        'engaged_non_buyer' as segment
    from email_states
    left join ordered
        on email_states.customer_id = ordered.customer_id
    where email_states.email_engagement = 'engaged' and ordered.customer_id is null
    union all
    select
        lifecycle.customer_id,
        'winback' as segment
    from lifecycle
    inner join email_states
        on lifecycle.customer_id = email_states.customer_id
    where lifecycle.lifecycle_stage in ('at_risk', 'lapsed') and email_states.is_subscribed
),

final as (
    select
        customer_id,
        segment
    from members
)

select * from final
