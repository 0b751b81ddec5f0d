{{ config(materialized='view') }}
-- One row per (campaign, customer) sent to on or before the as-of date: the unit every
-- send-based rate counts. send_date is the pair's last send on or before the date (so a
-- pair with a send in a window has its send_date in it), is_opened / is_clicked whether
-- the customer opened / clicked that campaign at least once on or before the date. The
-- semantic layer's open_rate and click_rate and fct_segment_performance's unique rates
-- are these shares. A view: the events are stored once, upstream.
with email_events as (
    select * from {{ ref('int_email_events_identified') }}
    where
        customer_id is not null
        and campaign_id is not null
        and {{ audience.on_or_before_as_of('event_date') }}
),

campaigns as (
    select * from {{ ref('stg_email__campaigns') }}
),

pairs as (
    select
        campaign_id,
        customer_id,
        max(case when event_type = 'send' then event_date end) as send_date,
        max(case when event_type = 'open' then 1 else 0 end) as opened,
        max(case when event_type = 'click' then 1 else 0 end) as clicked
    from email_events
    group by campaign_id, customer_id
),

final as (
    select
        {{ audience.as_of_date() }} as as_of_date,
        pairs.campaign_id,
        pairs.customer_id,
        campaigns.campaign_type,
        pairs.opened = 1 as is_opened,
        pairs.clicked = 1 as is_clicked,
        pairs.send_date
    from pairs
    left join campaigns
        on pairs.campaign_id = campaigns.campaign_id
    where pairs.send_date is not null
)

select * from final
