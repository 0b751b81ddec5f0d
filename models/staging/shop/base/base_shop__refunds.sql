{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='delete+insert',
    unique_key=audience.dq_partition(['refund_id']),
    on_schema_change='fail',
) }}
-- Every raw refund row, classified as kept, superseded or rejected.
-- A refund must belong to a kept order.
with source as (
    select * from {{ source('shop', 'shop_refunds') }}
    {{- audience.keys_to_reclassify(
        source('shop', 'shop_refunds'), ['refund_id'],
        also=audience.reclassified_in('order_id', ref('base_shop__orders'), 'order_id')
    ) }}
),

kept_orders as (
    select order_id from {{ ref('stg_shop__orders') }}
),

versioned as (
    select
        refund_id,
        order_id,
        amount,
        refunded_at,
        _loaded_at,
        {{ audience.dq_source_key(['refund_id']) }} as dq_source_key,
        {{ audience.dq_version_number(
            ['refund_id'], 'event', 'shop_refunds'
        ) }} as dq_version_number
    from source
),

validated as (
    select
        versioned.*,
        case
            when versioned.dq_version_number > 1 then null
            when versioned.refund_id is null or versioned.refunded_at is null then 'missing_value'
            when versioned.refunded_at > versioned._loaded_at then 'future_timestamp'
            when versioned.amount < 0 then 'negative_amount'
            when kept_orders.order_id is null then 'orphan_refund'
        end as dq_reject_reason
    from versioned
    left join kept_orders
        on versioned.order_id = kept_orders.order_id
),

final as (
    select
        *,
        {{ audience.dq_status() }} as dq_status,
        {{ audience.dq_processed_at() }} as dq_processed_at
    from validated
)

select * from final
