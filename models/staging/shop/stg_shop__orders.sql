-- Orders: one row per order, its surviving valid version that is identifiable, with the
-- email it is identified by (base_shop__cross_checked).
with classified as (
    select * from {{ ref('base_shop__orders') }}
    where dq_status = 'kept'
),

cross_checked as (
    select * from {{ ref('base_shop__cross_checked') }}
    where source_table = 'shop_orders' and dq_status = 'kept'
),

final as (
    select
        classified.order_id,
        classified.customer_id,
        classified.email,
        cross_checked.identified_email,
        classified.status,
        classified.currency_code,
        classified.total_amount,
        classified.discount_amount,
        classified.has_valid_email,
        classified.ordered_at,
        classified.updated_at,
        classified._loaded_at
    from classified
    inner join cross_checked
        on classified.order_id = cross_checked.dq_source_key
)

select * from final
