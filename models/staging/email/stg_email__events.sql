-- Email events: one row per event, its first delivery, with a valid email and a known type.
with classified as (
    select * from {{ ref('base_email__events') }}
),

final as (
    select
        event_id,
        campaign_id,
        email,
        event_type,
        bounce_type,
        occurred_at,
        _loaded_at,
        dq_processed_at
    from classified
    where dq_status = 'kept'
)

select * from final
