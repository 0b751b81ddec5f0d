-- Kept checkouts started on or before the as-of date, with who started them (the
-- checkout's own valid email, else its shop customer's).
with checkouts as (
    select * from {{ ref('stg_shop__checkouts') }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
    where has_valid_email
),

identified as (
    select
        checkouts.checkout_id,
        checkouts.customer_id as shop_customer_id,
        case
            when checkouts.has_valid_email then checkouts.email else shop_customers.email
        end as email,
        checkouts.completed_order_id,
        checkouts.currency_code,
        checkouts.cart_amount,
        checkouts.created_at
    from checkouts
    left join shop_customers
        on checkouts.customer_id = shop_customers.customer_id
    where {{ audience.on_or_before_as_of(audience.to_date('checkouts.created_at')) }}
),

final as (
    select
        checkout_id,
        {{ dbt.hash('email') }} as customer_id,
        shop_customer_id,
        email,
        completed_order_id,
        currency_code,
        cart_amount,
        {{ audience.to_date('created_at') }} as created_date,
        created_at
    from identified
)

select * from final
