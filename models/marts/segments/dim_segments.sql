-- The segment catalogue: one row per (segment_family, segment) with members on the
-- as-of date, plus every segment declared with none (the fixed segments of seed
-- segment_descriptions, the RFM segments of rfm_segment_map, the custom audiences of var
-- custom_audiences and the audience models of models/audiences/). Description, rule,
-- exclusivity and population (from the family registry, var segment_families), owner,
-- members and shares. Segments of a column family without a seed row are described from
-- the registry (the dim_customers column they come from).
{%- set families = audience.segment_families() %}
{%- set custom_families = audience.families_with_source() %}
{%- set audiences = audience.custom_audiences(check=false) %}
{%- set audience_models = audience.custom_audience_models() %}
{%- set default_owner = var('default_segment_owner') %}
{#- The vars a definition in seed segment_descriptions may name as {var_name}. -#}
{%- set rule_vars = [
    'lifecycle_new_days', 'lifecycle_active_days', 'lifecycle_at_risk_days',
    'lifecycle_lapsed_days', 'lifecycle_reactivation_gap_days', 'engagement_window_days',
    'new_subscriber_days', 'enterprise_min_employees', 'mid_market_min_employees',
    'vip_min_orders', 'vip_window_days', 'repeat_buyer_min_orders', 'cart_abandon_days',
    'bargain_min_orders', 'bargain_min_discounted_share', 'churn_risk_high_below',
    'churn_risk_medium_below',
] %}
with customers as (
    select * from {{ ref('dim_customers') }}
),

memberships as (
    select * from {{ ref('fct_segment_memberships') }}
),

segment_descriptions as (
    select * from {{ ref('segment_descriptions') }}
),

rfm_segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

families as (
    {%- for name, family in families.items() %}
        select
            '{{ name }}' as segment_family,
            {{ 'true' if family['exclusive'] else 'false' }} as is_exclusive,
            '{{ family['population'] }}' as population,
            {% if family.get('column') -%}
                '{{ family['column'] }}'
            {%- else -%}
                {{ dbt.cast('null', dbt.type_string()) }}
            {%- endif %} as source_column
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

custom_audiences as (
    {%- for family_name in custom_families %}
        {%- for custom in audiences %}
            select
                '{{ family_name }}' as segment_family,
                '{{ custom['name'] }}' as segment,
                '{{ custom['description'] | replace("'", "''") }}' as description,
                '{{ custom['predicate'] | replace("'", "''") }}' as definition,
                '{{ (custom.get('owner') or default_owner) | replace("'", "''") }}' as segment_owner
            union all
        {%- endfor %}
        {%- for model in audience_models %}
            select
                '{{ family_name }}' as segment_family,
                '{{ model['name'] }}' as segment,
                '{{ model['description'] | replace("'", "''") }}' as description,
                'model {{ model['name'] }} ({{ model['path'] }})' as definition,
                '{{ (model['owner'] or default_owner) | replace("'", "''") }}' as segment_owner
            union all
        {%- endfor %}
    {%- endfor %}
    select
        {{ dbt.cast('null', dbt.type_string()) }} as segment_family,
        {{ dbt.cast('null', dbt.type_string()) }} as segment,
        {{ dbt.cast('null', dbt.type_string()) }} as description,
        {{ dbt.cast('null', dbt.type_string()) }} as definition,
        {{ dbt.cast('null', dbt.type_string()) }} as segment_owner
    where 1 = 0
),

-- {var_name} in a definition becomes the var's value, one var per step.
definitions_0 as (
    select
        segment_family,
        segment,
        description,
        definition
    from segment_descriptions
),

{% for name in rule_vars -%}
    definitions_{{ loop.index }} as (
        select
            segment_family,
            segment,
            description,
            replace(definition, '{{ '{' ~ name ~ '}' }}', '{{ var(name) }}') as definition
        from definitions_{{ loop.index0 }}
    ),

{% endfor -%}

fixed_segments as (
    select * from definitions_{{ rule_vars | length }}
),

rfm_rules as (
    select
        rfm_segment as segment,
        '(r_score, f_score) in ' || {{ dbt.listagg(
            "'(' || " ~ dbt.cast('r_score', dbt.type_string()) ~ " || ', ' || "
            ~ dbt.cast('f_score', dbt.type_string()) ~ " || ')'",
            "', '",
            'order by r_score desc, f_score asc'
        ) }} as definition
    from rfm_segment_map
    group by rfm_segment
),

sizes as (
    select
        segment_family,
        segment,
        count(distinct customer_id) as members
    from memberships
    group by segment_family, segment
),

segments as (
    select
        segment_family,
        segment
    from fixed_segments
    union
    select
        'rfm' as segment_family,
        segment
    from rfm_rules
    union
    select
        segment_family,
        segment
    from custom_audiences
    union
    select
        segment_family,
        segment
    from sizes
),

populations as (
    select
        count(*) as customers,
        sum(case when counted_orders > 0 then 1 else 0 end) as buyers
    from customers
),

final as (
    select
        {{ audience.as_of_date() }} as as_of_date,
        segments.segment_family,
        segments.segment,
        coalesce(
            custom_audiences.description,
            fixed_segments.description,
            case segments.segment_family
                when 'crm_tag'
                    then 'Customers with a live CRM contact tagged ' || segments.segment || '.'
                when 'category_affinity'
                    then 'Buyers whose largest spend is in category ' || segments.segment || '.'
                when 'rfm' then 'RFM segment ' || segments.segment || ' (seed rfm_segment_map).'
                else
                    'Customers whose ' || coalesce(families.source_column, segments.segment_family)
                    || ' is ' || segments.segment || '.'
            end
        ) as description,
        coalesce(
            custom_audiences.definition,
            rfm_rules.definition,
            fixed_segments.definition,
            case segments.segment_family
                when 'crm_tag'
                    then
                        'a tag of a live CRM contact, tagged by the date, whose slug is '
                        || segments.segment
                when 'category_affinity'
                    then
                        'the category with the most item spend over counted orders is '
                        || segments.segment
                else 'dim_customers.' || families.source_column || ' = ' || segments.segment
            end
        ) as definition,
        coalesce(custom_audiences.segment_owner, '{{ default_owner }}') as segment_owner,
        families.population,
        cast(coalesce(sizes.members, 0) as bigint) as members,
        {{ audience.ratio('coalesce(sizes.members, 0)', 'populations.customers') }}
            as share_of_customers,
        case families.population
            when 'customers'
                then {{ audience.ratio('coalesce(sizes.members, 0)', 'populations.customers') }}
            when 'buyers'
                then {{ audience.ratio('coalesce(sizes.members, 0)', 'populations.buyers') }}
        end as share_of_population,
        families.is_exclusive
    from segments
    inner join families
        on segments.segment_family = families.segment_family
    cross join populations
    left join sizes
        on
            segments.segment_family = sizes.segment_family
            and segments.segment = sizes.segment
    left join custom_audiences
        on
            segments.segment_family = custom_audiences.segment_family
            and segments.segment = custom_audiences.segment
    left join fixed_segments
        on
            segments.segment_family = fixed_segments.segment_family
            and segments.segment = fixed_segments.segment
    left join rfm_rules
        on
            segments.segment_family = 'rfm'
            and segments.segment = rfm_rules.segment
)

select * from final
