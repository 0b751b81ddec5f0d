{{ config(materialized='view') }}
-- Every kept email event that happened on or before the as-of date, with its customer
-- and campaign type. A view: the events are stored once, incrementally, upstream.
with email_events as (
    select * from {{ ref('int_email_events_identified') }}
    where {{ audience.on_or_before_as_of('event_date') }}
),

campaigns as (
    select * from {{ ref('stg_email__campaigns') }}
),

final as (
    select
        {{ audience.as_of_date() }} as as_of_date,
        email_events.event_id,
        email_events.customer_id,
        email_events.campaign_id,
        campaigns.campaign_type,
        email_events.event_type,
        email_events.bounce_type,
        email_events.is_suppression,
        email_events.event_date,
        email_events.occurred_at
    from email_events
    left join campaigns
        on email_events.campaign_id = campaigns.campaign_id
)

select * from final
