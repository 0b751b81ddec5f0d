-- Every raw CRM contact row, classified as kept, superseded or rejected.
with source as {{ audience.inline_on_full_build() }} (
    select * from {{ source('crm', 'crm_contacts') }}
),

repeated_keys as (
    {{ audience.dq_repeated_keys('source', ['contact_id']) }}
),

numbered as (
    {{ audience.dq_numbered(
        'source', 'repeated_keys', ['contact_id'], 'entity', 'crm_contacts'
    ) }}
),

versioned as (
    select
        contact_id,
        account_id,
        {{ audience.normalise_email('email') }} as email,
        trim(first_name) as first_name,
        trim(last_name) as last_name,
        trim(job_title) as job_title,
        country,
        coalesce(is_deleted, false) as is_deleted,
        created_at,
        updated_at,
        _loaded_at,
        {{ audience.dq_source_key(['contact_id']) }} as dq_source_key,
        dq_version_number
    from numbered
),

validated as (
    select
        *,
        case
            when dq_version_number > 1 then null
            when contact_id is null then 'missing_value'
            when not {{ audience.is_valid_email('email') }} then 'invalid_email'
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
