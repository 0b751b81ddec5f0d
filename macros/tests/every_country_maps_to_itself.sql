{#- On the country aliases seed: every code and English name of the countries seed,
    as lower(trim()), is an alias of its own code. Returns each one that is not. -#}
{% test every_country_maps_to_itself(model) %}

with countries as (
    select * from {{ ref('countries') }}
),

expected as (
    select
        lower(trim(country_code)) as country_alias,
        country_code
    from countries
    union all
    select
        lower(trim(country_name)) as country_alias,
        country_code
    from countries
)

select expected.*
from expected
left join {{ model }} as aliases
    on
        expected.country_alias = aliases.country_alias
        and expected.country_code = aliases.country_code
where aliases.country_alias is null

{% endtest %}
