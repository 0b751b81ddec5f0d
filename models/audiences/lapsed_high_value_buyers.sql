-- A model-based audience (family custom, segment lapsed_high_value_buyers): buyers with at
-- least lapsed_high_value_min_orders counted orders whose last counted order is between
-- lapsed_high_value_min_days (included) and lapsed_high_value_max_days (excluded) days
-- before the as-of date: good customers drifting away, for a win-back offer.
{%- set min_orders = audience.number_var('lapsed_high_value_min_orders') %}
{%- set min_days = audience.number_var('lapsed_high_value_min_days') %}
{%- set max_days = audience.number_var('lapsed_high_value_max_days') %}
with customers as (
    select * from {{ ref('dim_customers') }}
),

features as (
    select * from {{ ref('dim_customer_features') }}
),

final as (
    select customers.customer_id
    from customers
    inner join features
        on customers.customer_id = features.customer_id
    where
        customers.counted_orders >= {{ min_orders }}
        and features.days_since_last_order >= {{ min_days }}
        and features.days_since_last_order < {{ max_days }}
)

select * from final
