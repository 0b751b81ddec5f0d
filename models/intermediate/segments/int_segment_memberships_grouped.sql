-- One row per (as_of_date, customer, segment family, segment), each holdout group
-- computed once, here: the segment's holdout group (control when the membership's bucket
-- is below holdout_pct), the customer's global-control flag (bucket of 'global:' below
-- global_holdout_pct) and sendability (emailable, treatment, not global control).
-- Exclusive families come from dim_customers columns; behaviour, crm_tag and custom
-- from their own rules. The memberships, holdouts and history marts read this model.
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
    {{ audience.family_from_column('churn_risk', 'churn_risk') }}
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

grouped as (
    select
        customers.as_of_date,
        memberships.customer_id,
        {{ dbt.cast('memberships.segment_family', dbt.type_string()) }} as segment_family,
        {{ dbt.cast('memberships.segment', dbt.type_string()) }} as segment,
        case
            when
                {{ audience.is_holdout_control('memberships.segment_family', 'memberships.segment',
                    'memberships.customer_id') }}
                then 'control'
            else 'treatment'
        end as holdout_group,
        customers.is_global_control,
        customers.is_emailable
    from memberships
    inner join customers
        on memberships.customer_id = customers.customer_id
),

final as (
    select
        as_of_date,
        customer_id,
        segment_family,
        segment,
        holdout_group,
        is_global_control,
        is_emailable,
        (is_emailable and holdout_group = 'treatment' and not is_global_control) as is_sendable
    from grouped
)

select * from final
