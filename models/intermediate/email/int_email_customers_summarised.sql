{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ audience.delete_reclassified_customers(ref('base_email__events')) }}",
) }}
-- One row per customer with a kept email event, whatever its date: the first and last
-- event dates, the latest subscribe and suppression, the latest open and click. The
-- compact table the per-customer email models read instead of the events (1 M rows
-- against 42 M at profile L). Incremental: a run recomputes, from all their events, the
-- customers with an event classified upstream since its last run (the pre-hook deleted
-- them); a customer whose events were all reclassified away is gone. dq_processed_at is
-- the run that computed the row.
with events as (
    select * from {{ ref('int_email_events_identified') }}
    {%- if is_incremental() %}
        where customer_id in (
            {{ audience.reclassified_email_customers(ref('base_email__events')) }}
        )
    {%- endif %}
),

final as (
    select
        customer_id,
        min(email) as email,
        min(event_date) as first_event_date,
        max(event_date) as last_event_date,
        max(case when event_type = 'subscribe' then occurred_at end) as last_subscribed_at,
        max(case when is_suppression then occurred_at end) as last_suppressed_at,
        max(case when event_type = 'open' then event_date end) as last_open_date,
        max(case when event_type = 'click' then event_date end) as last_click_date,
        {{ audience.dq_processed_at() }} as dq_processed_at
    from events
    group by customer_id
)

select * from final
