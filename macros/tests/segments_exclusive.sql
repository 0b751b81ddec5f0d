{#- No customer is in two segments of an exclusive family on one as-of date. -#}
{% test segments_exclusive(model, families) %}

select
    as_of_date,
    customer_id,
    segment_family,
    count(*) as segments
from {{ model }}
where segment_family in ({{ audience.sql_string_list(families) }})
group by as_of_date, customer_id, segment_family
having count(*) > 1

{% endtest %}
