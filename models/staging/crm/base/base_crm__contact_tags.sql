-- Every raw contact tag row, classified as kept, superseded or rejected.
-- The key is (contact_id, tag) exactly as landed.
with source as {{ audience.inline_on_full_build() }} (
    select * from {{ source('crm', 'crm_contact_tags') }}
),

repeated_keys as (
    {{ audience.dq_repeated_keys('source', ['contact_id', 'tag']) }}
),

numbered as (
    {{ audience.dq_numbered(
        'source', 'repeated_keys', ['contact_id', 'tag'], 'event', 'crm_contact_tags'
    ) }}
),

versioned as (
    select
        contact_id,
        tag,
        tagged_at,
        _loaded_at,
        {{ audience.dq_source_key(['contact_id', 'tag']) }} as dq_source_key,
        dq_version_number
    from numbered
),

validated as (
    select
        *,
        case
            when dq_version_number > 1 then null
            when
                {{ audience.dq_key_is_null(['contact_id', 'tag']) }} or tagged_at is null
                then 'missing_value'
            when tagged_at > _loaded_at then 'future_timestamp'
        end as dq_reject_reason
    from versioned
),

final as (
    select
        *,
        {{ audience.dq_status() }} as dq_status
    from validated
)

select * from final
