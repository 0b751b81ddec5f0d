-- Every kept email event that happened on or before the as-of date, with its customer.
with email_events as (
    select * from {{ ref('int_email_events_identified') }}
),

final as (
    select
        {{ audience.as_of_date() }} as as_of_date,
        event_id,
        customer_id,
        campaign_id,
        campaign_type,
        event_type,
        bounce_type,
        is_suppression,
        event_date,
        occurred_at
    from email_events
)

select * from final
