-- Checkouts: one row per checkout, its first delivery if valid and identifiable, with the
-- email it is identified by (base_shop__cross_checked).
with classified as (
    select * from {{ ref('base_shop__checkouts') }}
    where dq_status = 'kept'
),

cross_checked as (
    select * from {{ ref('base_shop__cross_checked') }}
    where source_table = 'shop_checkouts' and dq_status = 'kept'
),

final as (
    select
        classified.checkout_id,
        classified.customer_id,
        classified.email,
        cross_checked.identified_email,
        classified.currency_code,
        classified.cart_amount,
        classified.completed_order_id,
        classified.has_valid_email,
        classified.created_at,
        classified._loaded_at
    from classified
    inner join cross_checked
        on classified.checkout_id = cross_checked.dq_source_key
)

select * from final
