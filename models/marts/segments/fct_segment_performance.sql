{{ config(
    materialized='incremental',
    incremental_strategy=audience.per_date_strategy(),
    partition_by=audience.per_date_partition(),
    on_schema_change='append_new_columns',
    full_refresh=false,
    pre_hook="{{ audience.delete_as_of_rows() }}",
) }}
-- One row per (as_of_date, family, segment): its size and what its members did in the
-- 90 days (orders, sends) and 30 days (conversion) up to the as-of date. Kept per date
-- like the membership history: a run replaces its own date only.
with memberships as (
    select * from {{ ref('fct_segment_memberships') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

activity as (
    select * from {{ ref('int_customers_recent_activity') }}
),

customer_count as (
    select count(*) as customers from customers
),

per_segment as (
    select
        memberships.as_of_date,
        memberships.segment_family,
        memberships.segment,
        count(*) as members,
        sum(case when memberships.is_emailable then 1 else 0 end) as emailable_members,
        sum(case when customers.counted_orders > 0 then 1 else 0 end) as buyers,
        sum(coalesce(activity.orders_90d, 0)) as orders_90d,
        sum(coalesce(activity.net_revenue_90d_usd, 0)) as net_revenue_90d_usd,
        sum(coalesce(activity.sends_90d, 0)) as sends_90d,
        sum(coalesce(activity.opened_sends_90d, 0)) as opened_sends_90d,
        sum(coalesce(activity.clicked_sends_90d, 0)) as clicked_sends_90d,
        sum(coalesce(activity.unsubscribes_90d, 0)) as unsubscribes_90d,
        sum(case when activity.has_order_30d then 1 else 0 end) as converted_members_30d
    from memberships
    inner join customers
        on memberships.customer_id = customers.customer_id
    left join activity
        on memberships.customer_id = activity.customer_id
    group by memberships.as_of_date, memberships.segment_family, memberships.segment
),

final as (
    select
        per_segment.as_of_date,
        per_segment.segment_family,
        per_segment.segment,
        cast(per_segment.members as bigint) as members,
        {{ audience.ratio('per_segment.members', 'customer_count.customers') }}
            as share_of_customers,
        cast(per_segment.emailable_members as bigint) as emailable_members,
        cast(per_segment.buyers as bigint) as buyers,
        cast(per_segment.orders_90d as bigint) as orders_90d,
        cast(per_segment.net_revenue_90d_usd as decimal(38, 2)) as net_revenue_90d_usd,
        {{ audience.money_ratio('per_segment.net_revenue_90d_usd', 'per_segment.orders_90d') }}
            as aov_90d_usd,
        cast(per_segment.sends_90d as bigint) as sends_90d,
        cast(per_segment.opened_sends_90d as bigint) as opened_sends_90d,
        cast(per_segment.clicked_sends_90d as bigint) as clicked_sends_90d,
        cast(per_segment.unsubscribes_90d as bigint) as unsubscribes_90d,
        {{ audience.ratio('per_segment.opened_sends_90d', 'per_segment.sends_90d') }}
            as unique_open_rate_90d,
        {{ audience.ratio('per_segment.clicked_sends_90d', 'per_segment.sends_90d') }}
            as unique_click_rate_90d,
        {{ audience.ratio('per_segment.unsubscribes_90d', 'per_segment.sends_90d') }}
            as unsubscribe_rate_90d,
        cast(per_segment.converted_members_30d as bigint) as converted_members_30d,
        {{ audience.ratio('per_segment.converted_members_30d', 'per_segment.members') }}
            as conversion_rate_30d
    from per_segment
    cross join customer_count
)

select * from final
