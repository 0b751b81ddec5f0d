-- Checkouts: one row per checkout, its first delivery.
with classified as (
    select * from {{ ref('base_shop__checkouts') }}
),

final as (
    select
        checkout_id,
        customer_id,
        email,
        currency_code,
        cart_amount,
        completed_order_id,
        has_valid_email,
        created_at,
        _loaded_at
    from classified
    where dq_status = 'kept'
)

select * from final
