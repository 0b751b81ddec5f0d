{#- The catalogue (model) has a row for every (segment_family, segment) of the
    memberships on the as-of date, with their member count: returns each segment that is
    missing from it or counted otherwise. -#}
{% test catalogues_every_segment(model, memberships) %}

with observed as (
    select
        segment_family,
        segment,
        count(distinct customer_id) as members
    from {{ memberships }}
    where as_of_date = {{ audience.as_of_date() }}
    group by segment_family, segment
)

select
    observed.segment_family,
    observed.segment,
    observed.members,
    catalogue.members as catalogued_members
from observed
left join {{ model }} as catalogue
    on
        observed.segment_family = catalogue.segment_family
        and observed.segment = catalogue.segment
where catalogue.members is null or catalogue.members <> observed.members

{% endtest %}
