{{ config(materialized='view') }}
-- One row per (campaign, customer) sent to on or before the as-of date: its first send
-- and the customer's state then, its last send on or before the date, and whether the
-- customer opened or clicked it on or before the date. From the compact pairs; only a
-- pair sent again after the as-of date (a build as of an earlier date than the data)
-- has its last send on or before the date read from the events, of its campaigns only.
with pairs as (
    select * from {{ ref('int_email_campaign_pairs') }}
    where {{ audience.on_or_before_as_of('first_send_date') }}
),

resent_pairs as (
    select
        campaign_id,
        customer_id
    from {{ ref('int_email_campaign_pairs') }}
    where
        {{ audience.on_or_before_as_of('first_send_date') }}
        and not {{ audience.on_or_before_as_of('last_send_date') }}
),

sends as (
    select * from {{ ref('int_email_events_identified') }}
    where
        event_type = 'send'
        and campaign_id in (select resent_pairs.campaign_id from resent_pairs)
        and {{ audience.on_or_before_as_of('event_date') }}
),

resent_last_sends as (
    select
        sends.campaign_id,
        sends.customer_id,
        max(sends.event_date) as send_date
    from sends
    inner join resent_pairs
        on
            sends.campaign_id = resent_pairs.campaign_id
            and sends.customer_id = resent_pairs.customer_id
    group by sends.campaign_id, sends.customer_id
),

final as (
    select
        pairs.campaign_id,
        pairs.customer_id,
        pairs.first_sent_at,
        pairs.is_first_sent_while_suppressed,
        pairs.is_first_sent_never_subscribed,
        coalesce(resent_last_sends.send_date, pairs.last_send_date) as send_date,
        coalesce({{ audience.on_or_before_as_of('pairs.first_opened_date') }}, false)
            as is_opened,
        coalesce({{ audience.on_or_before_as_of('pairs.first_clicked_date') }}, false)
            as is_clicked
    from pairs
    left join resent_last_sends
        on
            pairs.campaign_id = resent_last_sends.campaign_id
            and pairs.customer_id = resent_last_sends.customer_id
)

select * from final
