-- The rules of SPEC section 2 that read another table, applied to the rows the base
-- models kept: an order or checkout with neither a valid email of its own nor a kept
-- shop customer with a valid email is unidentifiable; a refund whose order is no kept
-- order (superseded, rejected by its base model, or unidentifiable) is an orphan_refund.
-- They are the last two reasons of the list, so they never hide one of the base models'.
-- The email an order or checkout is identified by is resolved here, once.
-- A table rebuilt whole on every run (kept base rows only, a few columns): a shop
-- customer whose email becomes valid or breaks, or an order newly rejected, changes the
-- rows that depend on it without a raw row of their own landing.
with orders as (
    select * from {{ ref('base_shop__orders') }}
    where dq_status = 'kept'
),

checkouts as (
    select * from {{ ref('base_shop__checkouts') }}
    where dq_status = 'kept'
),

refunds as (
    select * from {{ ref('base_shop__refunds') }}
    where dq_status = 'kept'
),

identifying_customers as (
    select
        customer_id,
        email
    from {{ ref('base_shop__customers') }}
    where dq_status = 'kept' and has_valid_email
),

orders_identified as (
    select
        orders.order_id,
        case
            when orders.has_valid_email then orders.email else identifying_customers.email
        end as identified_email,
        orders._loaded_at
    from orders
    left join identifying_customers
        on orders.customer_id = identifying_customers.customer_id
),

checkouts_identified as (
    select
        checkouts.checkout_id,
        case
            when checkouts.has_valid_email then checkouts.email else identifying_customers.email
        end as identified_email,
        checkouts._loaded_at
    from checkouts
    left join identifying_customers
        on checkouts.customer_id = identifying_customers.customer_id
),

kept_orders as (
    select order_id from orders_identified
    where identified_email is not null
),

checked as (
    select
        'shop_orders' as source_table,
        order_id as dq_source_key,
        identified_email,
        case when identified_email is null then 'unidentifiable' end as dq_reject_reason,
        _loaded_at
    from orders_identified

    union all

    select
        'shop_checkouts' as source_table,
        checkout_id as dq_source_key,
        identified_email,
        case when identified_email is null then 'unidentifiable' end as dq_reject_reason,
        _loaded_at
    from checkouts_identified

    union all

    select
        'shop_refunds' as source_table,
        refunds.refund_id as dq_source_key,
        cast(null as {{ dbt.type_string() }}) as identified_email,
        case when kept_orders.order_id is null then 'orphan_refund' end as dq_reject_reason,
        refunds._loaded_at
    from refunds
    left join kept_orders
        on refunds.order_id = kept_orders.order_id
),

final as (
    select
        source_table,
        dq_source_key,
        identified_email,
        dq_reject_reason,
        case when dq_reject_reason is null then 'kept' else 'rejected' end as dq_status,
        _loaded_at
    from checked
)

select * from final
