{#- No customer is in two segments of an exclusive family on one as-of date. The families
    are the exclusive ones of the registry (var segment_families) unless given. -#}
{% test segments_exclusive(model, families=none) %}

{%- set families = audience.exclusive_families() if families is none else families %}

select
    as_of_date,
    customer_id,
    segment_family,
    count(*) as segments
from {{ model }}
where segment_family in ({{ audience.sql_string_list(families) if families else "''" }})
group by as_of_date, customer_id, segment_family
having count(*) > 1

{% endtest %}
