-- For the deliverability owner: per campaign with sends on or before the as-of date, how
-- many customers it was sent to, and how many of them were, at the moment of their
-- (first) send of it, suppressed (the latest unsubscribe, complaint or hard bounce at
-- or before the send is at or after the latest subscribe before it, or there is no
-- subscribe) or never subscribed (no subscribe at or before the send, no suppression
-- either). The two counts exclude each other, as the email states do; both should be 0.
-- The state at each pair's first send is int_email_campaign_pairs'.
with sends as (
    select * from {{ ref('int_email_sends_as_of') }}
),

campaigns as (
    select * from {{ ref('stg_email__campaigns') }}
),

per_campaign as (
    select
        campaign_id,
        count(*) as sends,
        sum(case when is_first_sent_while_suppressed then 1 else 0 end)
            as sends_after_suppression,
        sum(case when is_first_sent_never_subscribed then 1 else 0 end)
            as sends_never_subscribed,
        sum(
            case
                when is_first_sent_while_suppressed or is_first_sent_never_subscribed then 1
                else 0
            end
        ) as non_compliant_sends
    from sends
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
