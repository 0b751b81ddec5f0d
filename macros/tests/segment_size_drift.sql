{#- Segments whose member count changed by more than max_change_share (default var
    max_daily_size_change_share) from the previous date kept in the model to the run's
    as-of date (a segment absent on one side counts 0 there). Segments under
    min_members (default var drift_min_members) on both dates are left out: small ones
    move by chance. With a single date kept there is nothing to compare. -#}
{% test segment_size_drift(model, max_change_share=none, min_members=none) %}

{%- set max_change_share = audience.number_var('max_daily_size_change_share') if max_change_share is none else max_change_share %}
{%- set min_members = audience.number_var('drift_min_members') if min_members is none else min_members %}
with dates as (
    select
        max(as_of_date) as current_date_kept,
        max(case when as_of_date < {{ audience.as_of_date() }} then as_of_date end)
            as previous_date_kept
    from {{ model }}
    where as_of_date <= {{ audience.as_of_date() }}
),

current_sizes as (
    select
        sizes.segment_family,
        sizes.segment,
        sizes.members
    from {{ model }} as sizes
    inner join dates
        on sizes.as_of_date = dates.current_date_kept
    where dates.previous_date_kept is not null
),

previous_sizes as (
    select
        sizes.segment_family,
        sizes.segment,
        sizes.members
    from {{ model }} as sizes
    inner join dates
        on sizes.as_of_date = dates.previous_date_kept
),

compared as (
    select
        coalesce(current_sizes.segment_family, previous_sizes.segment_family)
            as segment_family,
        coalesce(current_sizes.segment, previous_sizes.segment) as segment,
        coalesce(previous_sizes.members, 0) as previous_members,
        coalesce(current_sizes.members, 0) as current_members
    from current_sizes
    full outer join previous_sizes
        on
            current_sizes.segment_family = previous_sizes.segment_family
            and current_sizes.segment = previous_sizes.segment
)

select
    segment_family,
    segment,
    previous_members,
    current_members
from compared
where
    greatest(previous_members, current_members) >= {{ min_members }}
    and abs(current_members - previous_members)
    > {{ max_change_share }} * greatest(previous_members, 1)

{% endtest %}
