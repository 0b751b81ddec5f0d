-- Refunds: one row per refund of a kept order, its first delivery if valid (the order's
-- check is base_shop__cross_checked's).
with classified as (
    select * from {{ ref('base_shop__refunds') }}
    where dq_status = 'kept'
),

cross_checked as (
    select * from {{ ref('base_shop__cross_checked') }}
    where source_table = 'shop_refunds' and dq_status = 'kept'
),

final as (
    select
        classified.refund_id,
        classified.order_id,
        classified.amount,
        classified.refunded_at,
        classified._loaded_at
    from classified
    inner join cross_checked
        on classified.refund_id = cross_checked.dq_source_key
)

select * from final
