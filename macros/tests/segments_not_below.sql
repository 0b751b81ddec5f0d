{#- Segments on the run's as-of date with fewer members than min_members (default var
    min_segment_size): too small to measure against a holdout, or a rule that selects
    almost nobody. -#}
{% test segments_not_below(model, min_members=none) %}

{%- set min_members = audience.number_var('min_segment_size') if min_members is none else min_members %}

select
    as_of_date,
    segment_family,
    segment,
    members
from {{ model }}
where
    as_of_date = {{ audience.as_of_date() }}
    and members < {{ min_members }}

{% endtest %}
