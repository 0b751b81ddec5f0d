{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='delete+insert',
    unique_key=audience.dq_partition(['order_item_id']),
    on_schema_change='fail',
) }}
-- Every raw order item row, classified as kept, superseded or rejected.
with source as {{ audience.inline_on_full_build() }} (
    select * from {{ source('shop', 'shop_order_items') }}
    {{- audience.keys_to_reclassify(source('shop', 'shop_order_items'), ['order_item_id']) }}
),

repeated_keys as (
    {{ audience.dq_repeated_keys('source', ['order_item_id']) }}
),

numbered as (
    {{ audience.dq_numbered(
        'source', 'repeated_keys', ['order_item_id'], 'event', 'shop_order_items'
    ) }}
),

versioned as (
    select
        order_item_id,
        order_id,
        product_id,
        product_category,
        quantity,
        unit_price,
        _loaded_at,
        {{ audience.dq_source_key(['order_item_id']) }} as dq_source_key,
        dq_version_number
    from numbered
),

validated as (
    select
        *,
        case
            when dq_version_number > 1 then null
            when order_item_id is null then 'missing_value'
            when quantity < 0 or unit_price < 0 then 'negative_amount'
        end as dq_reject_reason
    from versioned
),

final as (
    select
        *,
        {{ audience.dq_status() }} as dq_status,
        {{ audience.dq_processed_at() }} as dq_processed_at
    from validated
)

select * from final
