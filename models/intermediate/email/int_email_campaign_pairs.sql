{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ audience.delete_reclassified_pairs(ref('base_email__events')) }}",
) }}
-- One row per (campaign, customer) with a send, over every kept event whatever its date:
-- the first send, the first and last send dates, the first open and click dates, and
-- the customer's email state at the first send (SPEC section 5's rule on the events up
-- to that moment; a change at the same instant as the send counts). The compact table
-- the send-based models read instead of the events: at 1 M customers, 34 M pairs
-- against 42 M events, and nothing to aggregate on a daily run. The state at the first
-- send is the same whatever the as-of date, once the send is on or before it.
-- Incremental: a run recomputes from all their events the pairs with an event
-- classified upstream since its last run, and every pair of a customer with a subscribe
-- or suppression classified since (the pre-hook deleted them); a pair whose sends were
-- all reclassified away is gone. dq_processed_at is the run that computed the pair.
{% set pair_columns %}
        events.campaign_id,
        events.customer_id,
        min(case when events.event_type = 'send' then events.occurred_at end) as first_sent_at,
        min(case when events.event_type = 'send' then events.event_date end) as first_send_date,
        max(case when events.event_type = 'send' then events.event_date end) as last_send_date,
        min(case when events.event_type = 'open' then events.event_date end)
            as first_opened_date,
        min(case when events.event_type = 'click' then events.event_date end)
            as first_clicked_date
{%- endset %}
-- The events are read by two branches: on a full build in place, not copied first.
with events as {{ audience.inline_on_full_build() }} (
    select * from {{ ref('int_email_events_identified') }}
    {%- if is_incremental() %}
        where {{ audience.is_reclassified_pair(ref('base_email__events')) }}
    {%- endif %}
),

-- Every subscribe and suppression of the customers of these events.
state_changes as (
    select
        customer_id,
        occurred_at,
        event_type = 'subscribe' as is_subscribe
    from {{ ref('int_email_events_identified') }}
    where
        (event_type = 'subscribe' or is_suppression)
    {%- if is_incremental() %}
        and customer_id in (select events.customer_id from events)
    {%- endif %}
),

-- Most customers subscribe and are never suppressed: their state at any moment is
-- "subscribed" from their first subscribe on, "never subscribed" before it. Only the
-- sends of customers with a suppression are joined to their changes (a join of every
-- send to every change spilled to disk at 1 M customers), and their pairs are
-- aggregated apart from the others, so no join of every pair is needed either.
customers_changes as (
    select
        customer_id,
        min(case when is_subscribe then occurred_at end) as first_subscribed_at,
        max(case when is_subscribe then 0 else 1 end) = 1 as is_ever_suppressed
    from state_changes
    group by customer_id
),

pairs_never_suppressed as (
    select
        {{- pair_columns }},
        min(customers_changes.first_subscribed_at) as first_subscribed_at
    from events
    left join customers_changes
        on events.customer_id = customers_changes.customer_id
    where
        events.campaign_id is not null
        and not coalesce(customers_changes.is_ever_suppressed, false)
    group by events.campaign_id, events.customer_id
    having min(case when events.event_type = 'send' then events.occurred_at end) is not null
),

pairs_ever_suppressed as (
    select {{- pair_columns }}
    from events
    inner join customers_changes
        on events.customer_id = customers_changes.customer_id
    where events.campaign_id is not null and customers_changes.is_ever_suppressed
    group by events.campaign_id, events.customer_id
    having min(case when events.event_type = 'send' then events.occurred_at end) is not null
),

-- The last subscribe and suppression up to each first send (a change at the same
-- instant as the send counts).
state_at_first_send as (
    select
        pairs_ever_suppressed.campaign_id,
        pairs_ever_suppressed.customer_id,
        pairs_ever_suppressed.first_sent_at,
        pairs_ever_suppressed.first_send_date,
        pairs_ever_suppressed.last_send_date,
        pairs_ever_suppressed.first_opened_date,
        pairs_ever_suppressed.first_clicked_date,
        max(case when state_changes.is_subscribe then state_changes.occurred_at end)
            as last_subscribed_at,
        max(case when not state_changes.is_subscribe then state_changes.occurred_at end)
            as last_suppressed_at
    from pairs_ever_suppressed
    left join state_changes
        on
            pairs_ever_suppressed.customer_id = state_changes.customer_id
            and pairs_ever_suppressed.first_sent_at >= state_changes.occurred_at
    group by
        pairs_ever_suppressed.campaign_id,
        pairs_ever_suppressed.customer_id,
        pairs_ever_suppressed.first_sent_at,
        pairs_ever_suppressed.first_send_date,
        pairs_ever_suppressed.last_send_date,
        pairs_ever_suppressed.first_opened_date,
        pairs_ever_suppressed.first_clicked_date
),

final as (
    select
        campaign_id,
        customer_id,
        first_sent_at,
        first_send_date,
        last_send_date,
        first_opened_date,
        first_clicked_date,
        false as is_first_sent_while_suppressed,
        coalesce(first_subscribed_at > first_sent_at, true) as is_first_sent_never_subscribed,
        {{ audience.dq_processed_at() }} as dq_processed_at
    from pairs_never_suppressed
    union all
    select
        campaign_id,
        customer_id,
        first_sent_at,
        first_send_date,
        last_send_date,
        first_opened_date,
        first_clicked_date,
        {{ audience.is_suppressed('last_suppressed_at', 'last_subscribed_at') }}
            as is_first_sent_while_suppressed,
        last_subscribed_at is null and last_suppressed_at is null
            as is_first_sent_never_subscribed,
        {{ audience.dq_processed_at() }} as dq_processed_at
    from state_at_first_send
)

select * from final
