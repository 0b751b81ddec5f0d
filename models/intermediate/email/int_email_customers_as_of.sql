{{ config(materialized='view') }}
-- One row per customer with an email event on or before the as-of date: the latest
-- subscribe, suppression, open and click on or before the date. From the compact
-- per-customer summary; only customers with an event after the as-of date (a build as
-- of an earlier date than the data) are read from their events.
with summaries as (
    select * from {{ ref('int_email_customers_summarised') }}
    where {{ audience.on_or_before_as_of('first_event_date') }}
),

customers_with_later_events as (
    select customer_id
    from {{ ref('int_email_customers_summarised') }}
    where
        {{ audience.on_or_before_as_of('first_event_date') }}
        and not {{ audience.on_or_before_as_of('last_event_date') }}
),

later_customers_events as (
    select * from {{ ref('int_email_events_identified') }}
    where
        customer_id in (
            select customers_with_later_events.customer_id from customers_with_later_events
        )
        and {{ audience.on_or_before_as_of('event_date') }}
),

later_customers_as_of as (
    select
        customer_id,
        max(case when event_type = 'subscribe' then occurred_at end) as last_subscribed_at,
        max(case when is_suppression then occurred_at end) as last_suppressed_at,
        max(case when event_type = 'open' then event_date end) as last_open_date,
        max(case when event_type = 'click' then event_date end) as last_click_date
    from later_customers_events
    group by customer_id
),

final as (
    select
        summaries.customer_id,
        summaries.email,
        {%- for column in [
            'last_subscribed_at', 'last_suppressed_at', 'last_open_date', 'last_click_date'
        ] %}
            case
                when {{ audience.on_or_before_as_of('summaries.last_event_date') }}
                    then summaries.{{ column }}
                else later_customers_as_of.{{ column }}
            end as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from summaries
    left join later_customers_as_of
        on summaries.customer_id = later_customers_as_of.customer_id
)

select * from final
