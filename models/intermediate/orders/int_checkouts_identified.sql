-- Kept checkouts started on or before the as-of date, with who started them (the email
-- staging identified them by: their own valid email, else their shop customer's).
with checkouts as (
    select * from {{ ref('stg_shop__checkouts') }}
),

identified as (
    select
        checkouts.checkout_id,
        checkouts.customer_id as shop_customer_id,
        checkouts.identified_email as email,
        checkouts.completed_order_id,
        checkouts.currency_code,
        checkouts.cart_amount,
        checkouts.created_at
    from checkouts
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
