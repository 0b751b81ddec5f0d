-- One row per day from var time_spine_start_date to var time_spine_end_date, both
-- included: the time spine MetricFlow joins metrics to (dbt's cross-engine date_spine).
{%- set start_date = "cast('" ~ var('time_spine_start_date') ~ "' as date)" %}
{%- set end_date = "cast('" ~ var('time_spine_end_date') ~ "' as date)" %}
with days as (
    {{ dbt.date_spine('day', start_date, dbt.dateadd('day', 1, end_date)) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
