-- The lifecycle stage of every customer (SPEC section 5), first match wins. Days are
-- whole days before the as-of date; "within N days" means 0 <= days < N (counted
-- orders are never after the as-of date, so days are never negative).
{%- set lifecycle_new_days = audience.number_var('lifecycle_new_days') %}
{%- set lifecycle_active_days = audience.number_var('lifecycle_active_days') %}
{%- set lifecycle_reactivation_gap_days = audience.number_var('lifecycle_reactivation_gap_days') %}
{%- set lifecycle_at_risk_days = audience.number_var('lifecycle_at_risk_days') %}
{%- set lifecycle_lapsed_days = audience.number_var('lifecycle_lapsed_days') %}
with customers as (
    select * from {{ ref('int_customers_unified') }}
),

ordered as (
    select * from {{ ref('int_customers_ordered') }}
),

email_states as (
    select * from {{ ref('int_customers_email_states') }}
),

final as (
    select
        customers.customer_id,
        case
            when ordered.customer_id is null and not email_states.is_subscribed then 'prospect'
            when ordered.customer_id is null then 'subscriber'
            when ordered.days_since_first_order < {{ lifecycle_new_days }} then 'new'
            when
                ordered.days_since_last_order < {{ lifecycle_active_days }}
                and ordered.days_between_last_orders >= {{ lifecycle_reactivation_gap_days }}
                then 'reactivated'
            when ordered.days_since_last_order < {{ lifecycle_active_days }} then 'active'
            when ordered.days_since_last_order < {{ lifecycle_at_risk_days }} then 'at_risk'
            when ordered.days_since_last_order < {{ lifecycle_lapsed_days }} then 'lapsed'
            else 'churned'
        end as lifecycle_stage
    from customers
    inner join email_states
        on customers.customer_id = email_states.customer_id
    left join ordered
        on customers.customer_id = ordered.customer_id
)

select * from final
