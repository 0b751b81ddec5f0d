{{ config(
    materialized='incremental',
    incremental_strategy=audience.per_date_strategy(),
    partition_by=audience.per_date_partition('cohort_date'),
    on_schema_change='append_new_columns',
    pre_hook="{{ audience.delete_immature_outcomes() }}",
) }}
-- Forward outcomes of each cohort date D of the membership history (SPEC section 9): per
-- segment, outcome group (global_control, else the holdout group on D) and window N,
-- the members emailable on D, those with a counted order (as of this build's date L)
-- dated 0 < d - D <= N, and that revenue. The whole program is family `program`,
-- segment `all`: every emailable customer on D, `treatment` when not global control.
-- Incremental: a build deletes its immature (cohort, window) rows (pre-hook) and
-- measures every (cohort, window) of the history on or before L that has no row, so a
-- new date adds its cohort and matures the earlier ones, and re-running a date gives
-- the same rows. Mature rows are kept as measured.
{%- set windows = audience.outcome_windows_days() %}
with orders as (
    select * from {{ ref('fct_orders') }}
    where is_counted
),

-- A values list, not a union of one-row selects: Spark 4.3 fails to run a cross join of
-- such a union once the history is partitioned (issue 16).
windows as (
    select listed_windows.window_days
    from (
        values
        {%- for days in windows %}
            ({{ days }}){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as listed_windows (window_days)
),

-- The dates from the date column alone: of the history, only the pending cohorts'
-- members are read, so a run's cost does not grow with the length of the history.
cohort_dates as (
    select distinct as_of_date as cohort_date
    from {{ ref('fct_segment_membership_history') }}
    where as_of_date <= {{ audience.as_of_date() }}
),

pending as (
    select
        cohort_dates.cohort_date,
        windows.window_days
    from cohort_dates
    cross join windows
    {%- if is_incremental() %}
        where not exists (
            select 1
            from {{ this }} as kept
            where
                kept.cohort_date = cohort_dates.cohort_date
                and kept.window_days = windows.window_days
                and {{ audience.outcome_is_kept('kept') }}
        )
    {%- endif %}
),

pending_cohorts as (
    select
        cohort_date,
        max(window_days) as max_window_days
    from pending
    group by cohort_date
),

emailable as (
    select
        history.as_of_date as cohort_date,
        history.customer_id,
        history.segment_family,
        history.segment,
        case
            when coalesce(history.is_global_control, false) then 'global_control'
            else history.holdout_group
        end as outcome_group,
        coalesce(history.is_global_control, false) as is_global_control
    from {{ ref('fct_segment_membership_history') }} as history
    inner join pending_cohorts
        on history.as_of_date = pending_cohorts.cohort_date
    where history.is_emailable
),

-- One row per emailable customer of a cohort: their membership of a family that holds
-- every customer exactly once (exhaustive over customers), not a distinct over all rows.
cohort_customers as (
    select
        cohort_date,
        customer_id,
        is_global_control
    from emailable
    where segment_family = '{{ audience.customer_family() }}'
),

members as (
    select
        cohort_date,
        customer_id,
        segment_family,
        segment,
        outcome_group
    from emailable
    union all
    select
        cohort_date,
        customer_id,
        'program' as segment_family,
        'all' as segment,
        case when is_global_control then 'global_control' else 'treatment' end as outcome_group
    from cohort_customers
),

orders_after as (
    select
        cohort_customers.cohort_date,
        cohort_customers.customer_id,
        {{ audience.days_between('cohort_customers.cohort_date', 'orders.order_date') }}
            as days_after,
        orders.net_revenue_usd
    from cohort_customers
    inner join pending_cohorts
        on cohort_customers.cohort_date = pending_cohorts.cohort_date
    inner join orders
        on
            cohort_customers.customer_id = orders.customer_id
            and cohort_customers.cohort_date < orders.order_date
            and {{ audience.days_between('cohort_customers.cohort_date', 'orders.order_date') }}
            <= pending_cohorts.max_window_days
),

converted as (
    select
        orders_after.cohort_date,
        orders_after.customer_id,
        pending.window_days,
        sum(orders_after.net_revenue_usd) as revenue_usd
    from orders_after
    inner join pending
        on
            orders_after.cohort_date = pending.cohort_date
            and orders_after.days_after <= pending.window_days
    group by orders_after.cohort_date, orders_after.customer_id, pending.window_days
),

-- Members are counted once per cohort, converters only from the converted customers'
-- memberships: the windows multiply the few converters, not every membership row.
member_counts as (
    select
        cohort_date,
        segment_family,
        segment,
        outcome_group,
        count(*) as members
    from members
    group by cohort_date, segment_family, segment, outcome_group
),

converter_counts as (
    select
        members.cohort_date,
        members.segment_family,
        members.segment,
        members.outcome_group,
        converted.window_days,
        count(*) as converters,
        sum(converted.revenue_usd) as revenue_usd
    from converted
    inner join members
        on
            converted.cohort_date = members.cohort_date
            and converted.customer_id = members.customer_id
    group by
        members.cohort_date,
        members.segment_family,
        members.segment,
        members.outcome_group,
        converted.window_days
),

measured as (
    select
        member_counts.cohort_date,
        member_counts.segment_family,
        member_counts.segment,
        member_counts.outcome_group,
        pending.window_days,
        member_counts.members,
        coalesce(converter_counts.converters, 0) as converters,
        coalesce(converter_counts.revenue_usd, 0) as revenue_usd
    from member_counts
    inner join pending
        on member_counts.cohort_date = pending.cohort_date
    left join converter_counts
        on
            member_counts.cohort_date = converter_counts.cohort_date
            and member_counts.segment_family = converter_counts.segment_family
            and member_counts.segment = converter_counts.segment
            and member_counts.outcome_group = converter_counts.outcome_group
            and pending.window_days = converter_counts.window_days
),

final as (
    select
        cohort_date,
        {{ dbt.cast('segment_family', dbt.type_string()) }} as segment_family,
        {{ dbt.cast('segment', dbt.type_string()) }} as segment,
        {{ dbt.cast('outcome_group', dbt.type_string()) }} as outcome_group,
        cast(window_days as {{ dbt.type_int() }}) as window_days,
        cast(members as bigint) as members,
        cast(converters as bigint) as converters,
        cast(revenue_usd as decimal(18, 2)) as revenue_usd,
        {{ audience.ratio('converters', 'members') }} as conversion_rate,
        {{ audience.outcome_window_is_mature('cohort_date', 'window_days') }} as is_mature,
        {{ audience.as_of_date() }} as measured_as_of_date
    from measured
    {{- audience.outcomes_kept_in_rewritten_cohorts([
        'cohort_date', 'segment_family', 'segment', 'outcome_group', 'window_days', 'members',
        'converters', 'revenue_usd', 'conversion_rate', 'is_mature', 'measured_as_of_date',
    ]) }}
)

select * from final
