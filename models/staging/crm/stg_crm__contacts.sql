-- CRM contacts: one row per contact, its surviving valid version.
-- Deleted contacts are kept here and flagged; they contribute nothing downstream.
with classified as (
    select * from {{ ref('base_crm__contacts') }}
),

final as (
    select
        contact_id,
        account_id,
        email,
        first_name,
        last_name,
        job_title,
        country,
        is_deleted,
        created_at,
        updated_at,
        _loaded_at
    from classified
    where dq_status = 'kept'
)

select * from final
