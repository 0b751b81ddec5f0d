-- For the deliverability owner: per campaign with sends on or before the as-of date, how
-- many customers it was sent to, and how many of them were, at the moment of their
-- (first) send of it, suppressed (the latest unsubscribe, complaint or hard bounce at
-- or before the send is at or after the latest subscribe before it, or there is no
-- subscribe) or never subscribed (no subscribe at or before the send, no suppression
-- either). The two counts exclude each other, as the email states do; both should be 0.
with email_events as (
    select * from {{ ref('int_email_events_identified') }}
    where {{ audience.on_or_before_as_of('event_date') }}
),

campaigns as (
    select * from {{ ref('stg_email__campaigns') }}
),

sends as (
    select
        campaign_id,
        customer_id,
        min(occurred_at) as sent_at
    from email_events
    where event_type = 'send' and campaign_id is not null
    group by campaign_id, customer_id
),

state_changes as (
    select
        customer_id,
        occurred_at,
        event_type = 'subscribe' as is_subscribe
    from email_events
    where event_type = 'subscribe' or is_suppression
),

state_at_send as (
    select
        sends.campaign_id,
        sends.customer_id,
        max(case when state_changes.is_subscribe then state_changes.occurred_at end)
            as last_subscribed_at,
        max(case when not state_changes.is_subscribe then state_changes.occurred_at end)
            as last_suppressed_at
    from sends
    left join state_changes
        on
            sends.customer_id = state_changes.customer_id
            and sends.sent_at >= state_changes.occurred_at
    group by sends.campaign_id, sends.customer_id
),

classified as (
    select
        campaign_id,
        customer_id,
        coalesce(
            last_suppressed_at is not null
            and (last_subscribed_at is null or last_suppressed_at >= last_subscribed_at),
            false
        ) as is_sent_while_suppressed,
        last_subscribed_at is null and last_suppressed_at is null as is_sent_never_subscribed
    from state_at_send
),

per_campaign as (
    select
        campaign_id,
        count(*) as sends,
        sum(case when is_sent_while_suppressed then 1 else 0 end) as sends_after_suppression,
        sum(case when is_sent_never_subscribed then 1 else 0 end) as sends_never_subscribed,
        sum(case when is_sent_while_suppressed or is_sent_never_subscribed then 1 else 0 end)
            as non_compliant_sends
    from classified
    group by campaign_id
),

final as (
    select
        {{ audience.as_of_date() }} as as_of_date,
        per_campaign.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_type,
        cast(per_campaign.sends as bigint) as sends,
        cast(per_campaign.sends_after_suppression as bigint) as sends_after_suppression,
        cast(per_campaign.sends_never_subscribed as bigint) as sends_never_subscribed,
        {{ audience.ratio('per_campaign.non_compliant_sends', 'per_campaign.sends') }}
            as non_compliant_share,
        campaigns.sent_at
    from per_campaign
    left join campaigns
        on per_campaign.campaign_id = campaigns.campaign_id
)

select * from final
