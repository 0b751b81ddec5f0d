-- Every raw CRM account row, classified as kept, superseded or rejected.
with source as {{ audience.inline_on_full_build() }} (
    select * from {{ source('crm', 'crm_accounts') }}
),

repeated_keys as (
    {{ audience.dq_repeated_keys('source', ['account_id']) }}
),

numbered as (
    {{ audience.dq_numbered(
        'source', 'repeated_keys', ['account_id'], 'entity', 'crm_accounts'
    ) }}
),

versioned as (
    select
        account_id,
        trim(account_name) as account_name,
        trim(industry) as industry,
        country,
        employee_count,
        created_at,
        updated_at,
        _loaded_at,
        {{ audience.dq_source_key(['account_id']) }} as dq_source_key,
        dq_version_number
    from numbered
),

validated as (
    select
        *,
        case
            when dq_version_number > 1 then null
            when account_id is null then 'missing_value'
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
