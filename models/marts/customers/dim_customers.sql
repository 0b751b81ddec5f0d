-- One row per customer as of the as-of date, with every attribute segments use.
with customers as (
    select * from {{ ref('int_customers_unified') }}
),

located as (
    select * from {{ ref('int_customers_located') }}
),

ordered as (
    select * from {{ ref('int_customers_ordered') }}
),

email_states as (
    select * from {{ ref('int_customers_email_states') }}
),

lifecycle as (
    select * from {{ ref('int_customers_lifecycle') }}
),

scored as (
    select * from {{ ref('int_customers_scored') }}
),

category_affinity as (
    select * from {{ ref('int_customers_category_affinity') }}
),

predicted as (
    select * from {{ ref('int_customers_predicted') }}
),

firmographics as (
    select * from {{ ref('int_customers_firmographics') }}
),

final as (
    select
        {{ audience.as_of_date() }} as as_of_date,
        customers.customer_id,
        customers.email,
        located.country_code,
        located.region,
        located.account_id,
        located.company_size,
        ordered.first_order_date,
        ordered.last_order_date,
        cast(coalesce(ordered.counted_orders, 0) as {{ dbt.type_int() }}) as counted_orders,
        cast(coalesce(ordered.net_revenue_usd, 0) as decimal(38, 2)) as net_revenue_usd,
        email_states.is_subscribed,
        email_states.is_suppressed,
        lifecycle.lifecycle_stage,
        email_states.email_engagement,
        cast(scored.recency_days as {{ dbt.type_int() }}) as recency_days,
        cast(scored.frequency as {{ dbt.type_int() }}) as frequency,
        cast(scored.monetary as decimal(38, 2)) as monetary,
        cast(scored.r_score as {{ dbt.type_int() }}) as r_score,
        cast(scored.f_score as {{ dbt.type_int() }}) as f_score,
        cast(scored.m_score as {{ dbt.type_int() }}) as m_score,
        scored.rfm_cell,
        scored.rfm_segment,
        scored.value_tier,
        case
            when ordered.customer_id is not null
                then coalesce(category_affinity.category_affinity, 'unknown')
        end as category_affinity,
        firmographics.industry,
        firmographics.job_function,
        located.contact_id,
        located.shop_customer_id,
        cast(located.employee_count as {{ dbt.type_int() }}) as employee_count,
        email_states.is_subscribed as is_emailable,
        {{ audience.is_global_control('customers.customer_id') }} as is_global_control,
        email_states.last_engaged_date,
        email_states.last_subscribed_at,
        predicted.churn_risk,
        predicted.p_alive,
        predicted.expected_orders_90d,
        predicted.expected_orders_365d,
        predicted.expected_order_value_usd,
        predicted.clv_365d_usd,
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as built_at
    from customers
    inner join located
        on customers.customer_id = located.customer_id
    inner join email_states
        on customers.customer_id = email_states.customer_id
    inner join lifecycle
        on customers.customer_id = lifecycle.customer_id
    inner join firmographics
        on customers.customer_id = firmographics.customer_id
    left join ordered
        on customers.customer_id = ordered.customer_id
    left join scored
        on customers.customer_id = scored.customer_id
    left join category_affinity
        on customers.customer_id = category_affinity.customer_id
    left join predicted
        on customers.customer_id = predicted.customer_id
)

select * from final
