{{ config(materialized='view') }}
-- One row per (campaign, customer) sent to on or before the as-of date: the unit every
-- send-based rate counts. send_date is the pair's last send on or before the date (so a
-- pair with a send in a window has its send_date in it), is_opened / is_clicked whether
-- the customer opened / clicked that campaign at least once on or before the date. The
-- semantic layer's open_rate and click_rate and fct_segment_performance's unique rates
-- are these shares. A view over the compact (campaign, customer) pairs.
with sends as (
    select * from {{ ref('int_email_sends_as_of') }}
),

campaigns as (
    select * from {{ ref('stg_email__campaigns') }}
),

final as (
    select
        {{ audience.as_of_date() }} as as_of_date,
        sends.campaign_id,
        sends.customer_id,
        campaigns.campaign_type,
        sends.is_opened,
        sends.is_clicked,
        sends.send_date
    from sends
    left join campaigns
        on sends.campaign_id = campaigns.campaign_id
)

select * from final
