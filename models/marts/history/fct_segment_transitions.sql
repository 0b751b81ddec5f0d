-- Moves between segments of the exclusive families, from each date in the history to
-- the next date in it: from_segment is null when the customer enters the family's
-- population, to_segment is null when the customer leaves it. The first date in the
-- history has no transitions.
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

current_members as (
    select
        steps.as_of_date,
        steps.previous_date,
        history.customer_id,
        history.segment_family,
        history.segment
    from history
    inner join steps
        on history.as_of_date = steps.as_of_date
    where steps.previous_date is not null
),

previous_members as (
    select
        steps.as_of_date,
        steps.previous_date,
        history.customer_id,
        history.segment_family,
        history.segment
    from history
    inner join steps
        on history.as_of_date = steps.previous_date
),

compared as (
    select
        coalesce(current_members.as_of_date, previous_members.as_of_date) as as_of_date,
        coalesce(current_members.previous_date, previous_members.previous_date) as previous_date,
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
