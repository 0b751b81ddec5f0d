{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='delete+insert',
    unique_key=audience.dq_partition(['order_id']),
    on_schema_change='fail',
) }}
-- Every raw order row, classified as kept, superseded or rejected by the rules on the
-- order alone; whether a kept order is identifiable is base_shop__cross_checked's rule.
with source as {{ audience.inline_on_full_build() }} (
    select * from {{ source('shop', 'shop_orders') }}
    {{- audience.keys_to_reclassify(source('shop', 'shop_orders'), ['order_id']) }}
),

currencies as (
    select * from {{ ref('currency_rates') }}
),

repeated_keys as (
    {{ audience.dq_repeated_keys('source', ['order_id']) }}
),

numbered as (
    {{ audience.dq_numbered(
        'source', 'repeated_keys', ['order_id'], 'entity', 'shop_orders'
    ) }}
),

versioned as (
    select
        order_id,
        customer_id,
        {{ audience.normalise_email('email') }} as email,
        {{ audience.is_valid_email(audience.normalise_email('email')) }} as has_valid_email,
        lower(trim(status)) as status,
        upper(trim(currency)) as currency_code,
        total_amount,
        discount_amount,
        ordered_at,
        updated_at,
        _loaded_at,
        {{ audience.dq_source_key(['order_id']) }} as dq_source_key,
        dq_version_number
    from numbered
),

validated as (
    select
        versioned.*,
        case
            when versioned.dq_version_number > 1 then null
            when versioned.order_id is null or versioned.ordered_at is null then 'missing_value'
            when versioned.ordered_at > versioned._loaded_at then 'future_timestamp'
            when
                versioned.total_amount < 0 or versioned.discount_amount < 0
                then 'negative_amount'
            when currencies.currency_code is null then 'unknown_currency'
        end as dq_reject_reason
    from versioned
    left join currencies
        on versioned.currency_code = currencies.currency_code
),

final as (
    select
        *,
        {{ audience.dq_status() }} as dq_status,
        {{ audience.dq_processed_at() }} as dq_processed_at
    from validated
)

select * from final
