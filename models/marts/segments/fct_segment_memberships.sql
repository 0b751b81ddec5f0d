-- One row per (as_of_date, customer, segment family, segment). Exclusive families come
-- from dim_customers columns; behaviour, crm_tag and custom from their own rules.
{%- set audiences = audience.custom_audiences() %}
with customers as (
    select * from {{ ref('dim_customers') }}
),

behaviours as (
    select * from {{ ref('int_customers_behaviours') }}
),

tags as (
    select * from {{ ref('int_customers_tagged') }}
),

memberships as (
    {{ audience.family_from_column('lifecycle', 'lifecycle_stage') }}
    union all
    {{ audience.family_from_column('email_engagement', 'email_engagement') }}
    union all
    {{ audience.family_from_column('rfm', 'rfm_segment') }}
    union all
    {{ audience.family_from_column('value_tier', 'value_tier') }}
    union all
    {{ audience.family_from_column('region', 'region') }}
    union all
    {{ audience.family_from_column('company_size', 'company_size') }}
    union all
    {{ audience.family_from_column('category_affinity', 'category_affinity') }}
    union all
    select
        customer_id,
        'behaviour' as segment_family,
        segment
    from behaviours
    union all
    select
        customer_id,
        'crm_tag' as segment_family,
        segment
    from tags
    {% for custom in audiences %}
        union all
        select
            customer_id,
            'custom' as segment_family,
            '{{ custom.name }}' as segment
        from customers
        where coalesce(({{ custom.predicate }}), false)
    {% endfor %}
),

final as (
    select
        customers.as_of_date,
        memberships.customer_id,
        {{ dbt.cast('memberships.segment_family', dbt.type_string()) }} as segment_family,
        {{ dbt.cast('memberships.segment', dbt.type_string()) }} as segment,
        customers.is_emailable
    from memberships
    inner join customers
        on memberships.customer_id = customers.customer_id
)

select * from final
