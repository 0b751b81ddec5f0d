-- One row per (as_of_date, customer, segment family, segment), each holdout group
-- computed once, here: the segment's holdout group (control when the membership's bucket
-- is below holdout_pct), the customer's global-control flag (bucket of 'global:' below
-- global_holdout_pct) and sendability (emailable, treatment, not global control).
-- One union branch per family of the registry (var segment_families): a dim_customers
-- column, a rule model (customer_id, segment) or the custom audiences. The memberships,
-- holdouts and history marts read this model. The audience models of var
-- audience_models are declared as parents here, for dbt's parser:
{{- audience.audience_model_dependencies() }}
{%- set families = audience.segment_families() %}
with customers as (
    select * from {{ ref('dim_customers') }}
),

memberships as (
    {%- for name, family in families.items() %}
        {%- if family.get('source') %}
            {{ audience.custom_family_memberships(name) }}
        {%- else %}
            {{ audience.family_memberships(name, family) }}
        {%- endif %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
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
