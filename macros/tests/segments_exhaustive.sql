{#- Every customer of each exhaustive family's population (customers: everyone; buyers: a
    counted order) is in exactly one segment of the family, and nobody outside it is in
    any. The families and populations come from the registry (var segment_families).
    Returns each (family, customer) whose count is wrong. -#}
{% test segments_exhaustive(model, customers) %}

{%- set registry = audience.segment_families() %}
{%- set families = audience.exhaustive_families() %}

with customers as (
    select
        as_of_date,
        customer_id,
        counted_orders > 0 as is_buyer
    from {{ customers }}
),

population as (
    {%- for family in families %}
        select
            as_of_date,
            customer_id,
            '{{ family }}' as segment_family
        from customers
        {%- if registry[family]['population'] == 'buyers' %}
            where is_buyer
        {%- endif %}
        union all
    {%- endfor %}
    select
        as_of_date,
        customer_id,
        {{ dbt.cast('null', dbt.type_string()) }} as segment_family
    from customers
    where 1 = 0
),

members as (
    select
        as_of_date,
        customer_id,
        segment_family,
        count(*) as segments
    from {{ model }}
    where segment_family in ({{ audience.sql_string_list(families) if families else "''" }})
    group by as_of_date, customer_id, segment_family
)

select
    coalesce(population.segment_family, members.segment_family) as segment_family,
    coalesce(population.customer_id, members.customer_id) as customer_id,
    population.customer_id is not null as in_population,
    coalesce(members.segments, 0) as segments
from population
full outer join members
    on
        population.as_of_date = members.as_of_date
        and population.customer_id = members.customer_id
        and population.segment_family = members.segment_family
where population.customer_id is null or coalesce(members.segments, 0) <> 1

{% endtest %}
