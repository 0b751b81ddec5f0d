{#- Every customer of the family's population (all customers, or buyers: a counted
    order) is in exactly one segment of the family, and nobody outside it is in any.
    Returns each customer whose count is wrong. -#}
{% test segments_exhaustive(model, family, population, customers) %}

with population as (
    select
        as_of_date,
        customer_id
    from {{ customers }}
    {% if population == 'buyers' %}
        where counted_orders > 0
    {% elif population != 'all' %}
        {{ exceptions.raise_compiler_error("segments_exhaustive: population must be 'all' or 'buyers', got '" ~ population ~ "'") }}
    {% endif %}
),

members as (
    select
        as_of_date,
        customer_id,
        count(*) as segments
    from {{ model }}
    where segment_family = '{{ family }}'
    group by as_of_date, customer_id
)

select
    coalesce(population.customer_id, members.customer_id) as customer_id,
    population.customer_id is not null as in_population,
    coalesce(members.segments, 0) as segments
from population
full outer join members
    on
        population.as_of_date = members.as_of_date
        and population.customer_id = members.customer_id
where population.customer_id is null or coalesce(members.segments, 0) <> 1

{% endtest %}
