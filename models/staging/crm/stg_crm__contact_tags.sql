-- Contact tags: one row per (contact_id, tag) as landed, its first delivery.
with classified as (
    select * from {{ ref('base_crm__contact_tags') }}
),

final as (
    select
        contact_id,
        tag,
        tagged_at,
        _loaded_at
    from classified
    where dq_status = 'kept'
)

select * from final
