-- Order items: one row per item, its first delivery.
with classified as (
    select * from {{ ref('base_shop__order_items') }}
),

final as (
    select
        order_item_id,
        order_id,
        product_id,
        product_category,
        quantity,
        unit_price,
        _loaded_at
    from classified
    where dq_status = 'kept'
)

select * from final
