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
with events as (
    select * from {{ ref('int_email_events_identified') }}
    {%- if is_incremental() %}
        where {{ audience.is_reclassified_pair(ref('base_email__events')) }}
    {%- endif %}
),

pairs as (
    select
        campaign_id,
        customer_id,
        min(case when event_type = 'send' then occurred_at end) as first_sent_at,
        min(case when event_type = 'send' then event_date end) as first_send_date,
        max(case when event_type = 'send' then event_date end) as last_send_date,
        min(case when event_type = 'open' then event_date end) as first_opened_date,
        min(case when event_type = 'click' then event_date end) as first_clicked_date
    from events
    where campaign_id is not null
    group by campaign_id, customer_id
    having min(case when event_type = 'send' then occurred_at end) is not null
),

-- Every subscribe and suppression of the customers of these pairs.
state_changes as (
    select
        customer_id,
        occurred_at,
        event_type = 'subscribe' as is_subscribe
    from {{ ref('int_email_events_identified') }}
    where
        (event_type = 'subscribe' or is_suppression)
    {%- if is_incremental() %}
        and customer_id in (select pairs.customer_id from pairs)
    {%- endif %}
),

-- Most customers subscribe and are never suppressed: their state at any moment is
-- "subscribed" from their first subscribe on, "never subscribed" before it. Only the
-- sends of customers with a suppression are joined to their changes (a join of every
-- send to every change spilled to disk at 1 M customers).
customers_changes as (
    select
        customer_id,
        min(case when is_subscribe then occurred_at end) as first_subscribed_at,
        max(case when is_subscribe then 0 else 1 end) = 1 as is_ever_suppressed
    from state_changes
    group by customer_id
),

pairs_changes as (
    select
        pairs.*,
        customers_changes.first_subscribed_at,
        coalesce(customers_changes.is_ever_suppressed, false) as is_ever_suppressed
    from pairs
    left join customers_changes
        on pairs.customer_id = customers_changes.customer_id
),

state_at_first_send as (
    select
        pairs_changes.campaign_id,
        pairs_changes.customer_id,
        max(case when state_changes.is_subscribe then state_changes.occurred_at end)
            as last_subscribed_at,
        max(case when not state_changes.is_subscribe then state_changes.occurred_at end)
            as last_suppressed_at
    from pairs_changes
    inner join state_changes
        on
            pairs_changes.customer_id = state_changes.customer_id
            and pairs_changes.first_sent_at >= state_changes.occurred_at
    where pairs_changes.is_ever_suppressed
    group by pairs_changes.campaign_id, pairs_changes.customer_id
),

final as (
    select
        pairs_changes.campaign_id,
        pairs_changes.customer_id,
        pairs_changes.first_sent_at,
        pairs_changes.first_send_date,
        pairs_changes.last_send_date,
        pairs_changes.first_opened_date,
        pairs_changes.first_clicked_date,
        case
            when pairs_changes.is_ever_suppressed
                then {{ audience.is_suppressed(
                    'state_at_first_send.last_suppressed_at',
                    'state_at_first_send.last_subscribed_at'
                ) }}
            else false
        end as is_first_sent_while_suppressed,
        case
            when pairs_changes.is_ever_suppressed
                then
                    state_at_first_send.last_subscribed_at is null
                    and state_at_first_send.last_suppressed_at is null
            else coalesce(pairs_changes.first_subscribed_at > pairs_changes.first_sent_at, true)
        end as is_first_sent_never_subscribed,
        {{ audience.dq_processed_at() }} as dq_processed_at
    from pairs_changes
    left join state_at_first_send
        on
            pairs_changes.campaign_id = state_at_first_send.campaign_id
            and pairs_changes.customer_id = state_at_first_send.customer_id
)

select * from final
