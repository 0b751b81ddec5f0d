{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='delete+insert',
    unique_key=audience.dq_partition(['refund_id']),
    on_schema_change='fail',
) }}
-- Every raw refund row, classified as kept, superseded or rejected by the rules on the
-- refund alone; whether a kept refund's order is kept is base_shop__cross_checked's rule.
with source as {{ audience.inline_on_full_build() }} (
    select * from {{ source('shop', 'shop_refunds') }}
    {{- audience.keys_to_reclassify(source('shop', 'shop_refunds'), ['refund_id']) }}
),

repeated_keys as (
    {{ audience.dq_repeated_keys('source', ['refund_id']) }}
),

numbered as (
    {{ audience.dq_numbered(
        'source', 'repeated_keys', ['refund_id'], 'event', 'shop_refunds'
    ) }}
),

versioned as (
    select
        refund_id,
        order_id,
        amount,
        refunded_at,
        _loaded_at,
        {{ audience.dq_source_key(['refund_id']) }} as dq_source_key,
        dq_version_number
    from numbered
),

validated as (
    select
        *,
        case
            when dq_version_number > 1 then null
            when refund_id is null or refunded_at is null then 'missing_value'
            when refunded_at > _loaded_at then 'future_timestamp'
            when amount < 0 then 'negative_amount'
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
