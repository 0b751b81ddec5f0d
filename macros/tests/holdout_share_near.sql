{#- For segments with at least min_members members on a date, the control share is
    within tolerance_points of holdout_pct. Use at warn level: small segments vary. -#}
{% test holdout_share_near(model, min_members=1000, tolerance_points=3) %}

with shares as (
    select
        as_of_date,
        segment_family,
        segment,
        count(*) as members,
        100.0 * sum(case when holdout_group = 'control' then 1 else 0 end) / count(*) as control_pct
    from {{ model }}
    group by as_of_date, segment_family, segment
)

select *
from shares
where
    members >= {{ min_members }}
    and abs(control_pct - {{ audience.number_var('holdout_pct') }}) > {{ tolerance_points }}

{% endtest %}
