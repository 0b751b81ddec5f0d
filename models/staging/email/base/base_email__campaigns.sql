-- Every raw email campaign row, classified as kept, superseded or rejected.
with source as {{ audience.inline_on_full_build() }} (
    select * from {{ source('email', 'email_campaigns') }}
),

repeated_keys as (
    {{ audience.dq_repeated_keys('source', ['campaign_id']) }}
),

numbered as (
    {{ audience.dq_numbered(
        'source', 'repeated_keys', ['campaign_id'], 'event', 'email_campaigns'
    ) }}
),

versioned as (
    select
        campaign_id,
        trim(campaign_name) as campaign_name,
        lower(trim(campaign_type)) as campaign_type,
        sent_at,
        _loaded_at,
        {{ audience.dq_source_key(['campaign_id']) }} as dq_source_key,
        dq_version_number
    from numbered
),

validated as (
    select
        *,
        case
            when dq_version_number > 1 then null
            when campaign_id is null then 'missing_value'
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
