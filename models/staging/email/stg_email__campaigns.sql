-- Email campaigns: one row per campaign, its first delivery.
with classified as (
    select * from {{ ref('base_email__campaigns') }}
),

final as (
    select
        campaign_id,
        campaign_name,
        campaign_type,
        sent_at,
        _loaded_at
    from classified
    where dq_status = 'kept'
)

select * from final
