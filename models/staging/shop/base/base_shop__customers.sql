{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='delete+insert',
    unique_key=audience.dq_partition(['customer_id']),
    on_schema_change='fail',
) }}
-- Every raw shop customer row, classified as kept, superseded or rejected.
with source as (
    select * from {{ source('shop', 'shop_customers') }}
    {{- audience.keys_to_reclassify(source('shop', 'shop_customers'), ['customer_id']) }}
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
        {{ audience.dq_version_number(
            ['customer_id'], 'entity', 'shop_customers'
        ) }} as dq_version_number
    from source
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
