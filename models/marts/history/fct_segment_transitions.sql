{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ audience.delete_as_of_rows(next_date_in=ref('fct_segment_membership_history')) }}",
) }}
-- Moves between segments of the exclusive families, from the previous date in the
-- history to each date: from_segment is null when the customer enters the family's
-- population, to_segment is null when the customer leaves it. The first date in the
-- history has no transitions. An incremental run recomputes its own as-of date and the
-- next date in the history, whose previous date it may just have filled or changed.
with history as (
    select * from {{ ref('fct_segment_membership_history') }}
    where segment_family in ({{ audience.sql_string_list(audience.exclusive_families()) }})
),

dates as (
    select distinct as_of_date from history
),

steps as (
    select
        as_of_date,
        lag(as_of_date) over (order by as_of_date) as previous_date
    from dates
),

recomputed_steps as (
    select
        steps.as_of_date,
        steps.previous_date
    from steps
    where
        steps.previous_date is not null
        and (
            {{ not is_incremental() }}
            or steps.as_of_date = {{ audience.as_of_date() }}
            or steps.as_of_date = (
                select min(dates.as_of_date) from dates
                where dates.as_of_date > {{ audience.as_of_date() }}
            )
        )
),

current_members as (
    select
        recomputed_steps.as_of_date,
        recomputed_steps.previous_date,
        history.customer_id,
        history.segment_family,
        history.segment
    from history
    inner join recomputed_steps
        on history.as_of_date = recomputed_steps.as_of_date
),

previous_members as (
    select
        recomputed_steps.as_of_date,
        recomputed_steps.previous_date,
        history.customer_id,
        history.segment_family,
        history.segment
    from history
    inner join recomputed_steps
        on history.as_of_date = recomputed_steps.previous_date
),

compared as (
    select
        coalesce(current_members.as_of_date, previous_members.as_of_date) as as_of_date,
        coalesce(current_members.previous_date, previous_members.previous_date)
            as previous_date,
        coalesce(current_members.customer_id, previous_members.customer_id) as customer_id,
        coalesce(current_members.segment_family, previous_members.segment_family)
            as segment_family,
        previous_members.segment as from_segment,
        current_members.segment as to_segment
    from current_members
    full outer join previous_members
        on
            current_members.as_of_date = previous_members.as_of_date
            and current_members.customer_id = previous_members.customer_id
            and current_members.segment_family = previous_members.segment_family
),

final as (
    select
        as_of_date,
        previous_date,
        customer_id,
        segment_family,
        from_segment,
        to_segment
    from compared
    where
        from_segment is null
        or to_segment is null
        or from_segment <> to_segment
)

select * from final
