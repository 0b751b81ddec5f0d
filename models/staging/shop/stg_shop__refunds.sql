-- Refunds: one row per refund of a kept order, its first delivery.
with classified as (
    select * from {{ ref('base_shop__refunds') }}
),

final as (
    select
        refund_id,
        order_id,
        amount,
        refunded_at,
        _loaded_at
    from classified
    where dq_status = 'kept'
)

select * from final
