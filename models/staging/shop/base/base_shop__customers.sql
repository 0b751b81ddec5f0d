{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='delete+insert',
    unique_key=audience.dq_partition(['customer_id']),
    on_schema_change='fail',
) }}
-- Every raw shop customer row, classified as kept, superseded or rejected.
with source as {{ audience.inline_on_full_build() }} (
    select * from {{ source('shop', 'shop_customers') }}
    {{- audience.keys_to_reclassify(source('shop', 'shop_customers'), ['customer_id']) }}
),

repeated_keys as (
    {{ audience.dq_repeated_keys('source', ['customer_id']) }}
),

numbered as (
    {{ audience.dq_numbered(
        'source', 'repeated_keys', ['customer_id'], 'entity', 'shop_customers'
    ) }}
),

versioned as (
    select
        customer_id,
        {{ audience.normalise_email('email') }} as email,
        trim(first_name) as first_name,
        trim(last_name) as last_name,
        country,
        created_at,
        updated_at,
        _loaded_at,
        {{ audience.dq_source_key(['customer_id']) }} as dq_source_key,
        dq_version_number
    from numbered
),

validated as (
    select
        *,
        case
            when dq_version_number > 1 then null
            when customer_id is null then 'missing_value'
        end as dq_reject_reason
    from versioned
),

final as (
    select
        *,
        {{ audience.is_valid_email('email') }} as has_valid_email,
        {{ audience.dq_status() }} as dq_status,
        {{ audience.dq_processed_at() }} as dq_processed_at
    from validated
)

select * from final
