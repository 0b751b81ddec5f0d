-- One row per customer of dim_customers as of the as-of date: the features audience
-- rules use beside dim_customers. Counted orders and their net revenue within the last
-- 30, 90, 180 and 365 days (0 <= as_of_date - order_date < N), days since the last
-- counted order, open and click, distinct categories bought, live CRM tags, and the
-- firmographics of the customer's account and contact.
{%- set windows = [30, 90, 180, 365] %}
with customers as (
    select * from {{ ref('dim_customers') }}
),

counted_orders as (
    select * from {{ ref('int_orders_valued') }}
    where is_counted
),

email_customers as (
    select * from {{ ref('int_email_customers_as_of') }}
),

categories_bought as (
    select * from {{ ref('int_customers_categories_bought') }}
),

tags as (
    select * from {{ ref('int_customers_tagged') }}
),

firmographics as (
    select * from {{ ref('int_customers_firmographics') }}
),

orders_per_customer as (
    select
        customer_id,
        {%- for days in windows %}
            sum(
                case when {{ audience.within_days('order_date', days) }} then 1 else 0 end
            ) as orders_{{ days }}d,
            sum(
                case
                    when {{ audience.within_days('order_date', days) }} then net_revenue_usd
                    else 0
                end
            ) as net_revenue_{{ days }}d_usd,
        {%- endfor %}
        max(order_date) as last_order_date
    from counted_orders
    group by customer_id
),

categories_per_customer as (
    select
        customer_id,
        count(distinct category) as category_count
    from categories_bought
    group by customer_id
),

tags_per_customer as (
    select
        customer_id,
        count(distinct segment) as crm_tag_count
    from tags
    group by customer_id
),

final as (
    select
        customers.as_of_date,
        customers.customer_id,
        firmographics.industry,
        firmographics.job_function,
        firmographics.seniority,
        cast(firmographics.employee_count as {{ dbt.type_int() }}) as employee_count,
        {%- for days in windows %}
            cast(coalesce(orders_per_customer.orders_{{ days }}d, 0) as {{ dbt.type_int() }})
                as orders_{{ days }}d,
            cast(coalesce(orders_per_customer.net_revenue_{{ days }}d_usd, 0) as decimal(38, 2))
                as net_revenue_{{ days }}d_usd,
        {%- endfor %}
        cast(
            {{ audience.days_before_as_of('orders_per_customer.last_order_date') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_order,
        cast(
            {{ audience.days_before_as_of('email_customers.last_open_date') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_open,
        cast(
            {{ audience.days_before_as_of('email_customers.last_click_date') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_click,
        cast(coalesce(categories_per_customer.category_count, 0) as {{ dbt.type_int() }})
            as category_count,
        cast(coalesce(tags_per_customer.crm_tag_count, 0) as {{ dbt.type_int() }})
            as crm_tag_count
    from customers
    inner join firmographics
        on customers.customer_id = firmographics.customer_id
    left join orders_per_customer
        on customers.customer_id = orders_per_customer.customer_id
    left join email_customers
        on customers.customer_id = email_customers.customer_id
    left join categories_per_customer
        on customers.customer_id = categories_per_customer.customer_id
    left join tags_per_customer
        on customers.customer_id = tags_per_customer.customer_id
)

select * from final
