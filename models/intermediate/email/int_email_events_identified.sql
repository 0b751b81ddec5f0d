-- Kept email events that happened on or before the as-of date, with their customer
-- and campaign.
with events as (
    select * from {{ ref('stg_email__events') }}
),

campaigns as (
    select * from {{ ref('stg_email__campaigns') }}
),

final as (
    select
        events.event_id,
        {{ dbt.hash('events.email') }} as customer_id,
        events.campaign_id,
        events.email,
        campaigns.campaign_type,
        events.event_type,
        events.bounce_type,
        coalesce(
            events.event_type in ('unsubscribe', 'complaint')
            or (events.event_type = 'bounce' and events.bounce_type = 'hard'),
            false
        ) as is_suppression,
        {{ audience.to_date('events.occurred_at') }} as event_date,
        events.occurred_at
    from events
    left join campaigns
        on events.campaign_id = campaigns.campaign_id
    where {{ audience.to_date('events.occurred_at') }} <= {{ audience.as_of_date() }}
)

select * from final
