-- Orders: one row per order, its surviving valid version.
with classified as (
    select * from {{ ref('base_shop__orders') }}
),

final as (
    select
        order_id,
        customer_id,
        email,
        status,
        currency_code,
        total_amount,
        discount_amount,
        has_valid_email,
        ordered_at,
        updated_at,
        _loaded_at
    from classified
    where dq_status = 'kept'
)

select * from final
