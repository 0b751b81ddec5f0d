{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='delete+insert',
    unique_key=audience.dq_partition(['event_id']),
    on_schema_change='fail',
) }}
-- Every raw email event row, classified as kept, superseded or rejected.
with source as {{ audience.inline_on_full_build() }} (
    select * from {{ source('email', 'email_events') }}
    {{- audience.keys_to_reclassify(source('email', 'email_events'), ['event_id']) }}
),

repeated_keys as (
    {{ audience.dq_repeated_keys('source', ['event_id']) }}
),

numbered as (
    {{ audience.dq_numbered(
        'source', 'repeated_keys', ['event_id'], 'event', 'email_events'
    ) }}
),

versioned as (
    select
        event_id,
        campaign_id,
        {{ audience.normalise_email('email') }} as email,
        lower(trim(event_type)) as event_type,
        lower(trim(bounce_type)) as bounce_type,
        occurred_at,
        _loaded_at,
        {{ audience.dq_source_key(['event_id']) }} as dq_source_key,
        dq_version_number
    from numbered
),

validated as (
    select
        *,
        case
            when dq_version_number > 1 then null
            when event_id is null or occurred_at is null then 'missing_value'
            when occurred_at > _loaded_at then 'future_timestamp'
            when
                event_type is null
                or event_type not in ({{ audience.sql_string_list(audience.email_event_types()) }})
                then 'unknown_event_type'
            when not {{ audience.is_valid_email('email') }} then 'invalid_email'
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
