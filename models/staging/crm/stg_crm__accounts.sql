-- CRM accounts: one row per account, its surviving version.
with classified as (
    select * from {{ ref('base_crm__accounts') }}
),

final as (
    select
        account_id,
        account_name,
        industry,
        country,
        employee_count,
        created_at,
        updated_at,
        _loaded_at
    from classified
    where dq_status = 'kept'
)

select * from final
