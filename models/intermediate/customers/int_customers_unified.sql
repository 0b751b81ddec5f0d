-- One row per customer: a valid normalised email found in a kept row, existing as of
-- the as-of date, of a live CRM contact, a shop customer, an order, an email event or
-- a checkout. customer_id is the md5 of the email.
with contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
),

orders as (
    select * from {{ ref('int_orders_valued') }}
),

email_customers as (
    select * from {{ ref('int_email_customers_as_of') }}
),

checkouts as (
    select * from {{ ref('int_checkouts_identified') }}
),

sightings as (
    select
        email,
        'crm_contact' as seen_in
    from contacts
    where
        not is_deleted
        and {{ audience.exists_as_of('created_at') }}
    union all
    select
        email,
        'shop_customer' as seen_in
    from shop_customers
    where
        has_valid_email
        and {{ audience.exists_as_of('created_at') }}
    union all
    select
        email,
        'order' as seen_in
    from orders
    union all
    select
        email,
        'email_event' as seen_in
    from email_customers
    union all
    select
        email,
        'checkout' as seen_in
    from checkouts
),

final as (
    select
        {{ dbt.hash('email') }} as customer_id,
        email,
        max(case when seen_in = 'crm_contact' then 1 else 0 end) = 1 as is_crm_contact,
        max(case when seen_in = 'shop_customer' then 1 else 0 end) = 1 as is_shop_customer,
        max(case when seen_in = 'order' then 1 else 0 end) = 1 as has_orders,
        max(case when seen_in = 'email_event' then 1 else 0 end) = 1 as has_email_events,
        max(case when seen_in = 'checkout' then 1 else 0 end) = 1 as has_checkouts
    from sightings
    group by email
)

select * from final
