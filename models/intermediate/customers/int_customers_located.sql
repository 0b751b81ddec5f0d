-- Per customer: its CRM contact (the latest-updated live one) and shop customer (the
-- latest-updated one), the country (the contact's if it maps, else the shop
-- customer's), the region, the account and the company size.
{%- set enterprise_min_employees = audience.number_var('enterprise_min_employees') %}
{%- set mid_market_min_employees = audience.number_var('mid_market_min_employees') %}
with customers as (
    select * from {{ ref('int_customers_unified') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

country_aliases as (
    select * from {{ ref('country_aliases') }}
),

countries as (
    select * from {{ ref('countries') }}
),

latest_contacts as (
    select
        email,
        contact_id,
        account_id,
        country,
        row_number() over (
            partition by email
            order by updated_at desc nulls last, _loaded_at desc nulls last, contact_id asc
        ) as contact_rank
    from contacts
    where
        not is_deleted
        and {{ audience.exists_as_of('created_at') }}
),

latest_shop_customers as (
    select
        email,
        customer_id as shop_customer_id,
        country,
        row_number() over (
            partition by email
            order by updated_at desc nulls last, _loaded_at desc nulls last, customer_id asc
        ) as shop_customer_rank
    from shop_customers
    where
        has_valid_email
        and {{ audience.exists_as_of('created_at') }}
),

resolved as (
    select
        customers.customer_id,
        latest_contacts.contact_id,
        latest_shop_customers.shop_customer_id,
        latest_contacts.account_id,
        coalesce(contact_countries.country_code, shop_countries.country_code) as country_code
    from customers
    left join latest_contacts
        on
            customers.email = latest_contacts.email
            and latest_contacts.contact_rank = 1
    left join latest_shop_customers
        on
            customers.email = latest_shop_customers.email
            and latest_shop_customers.shop_customer_rank = 1
    left join country_aliases as contact_countries
        on lower(trim(latest_contacts.country)) = contact_countries.country_alias
    left join country_aliases as shop_countries
        on lower(trim(latest_shop_customers.country)) = shop_countries.country_alias
),

final as (
    select
        resolved.customer_id,
        resolved.contact_id,
        resolved.shop_customer_id,
        resolved.account_id,
        resolved.country_code,
        coalesce(countries.region, 'unknown') as region,
        accounts.employee_count,
        case
            when resolved.account_id is null then 'consumer'
            when accounts.employee_count is null or accounts.employee_count <= 0 then 'unknown_size'
            when accounts.employee_count >= {{ enterprise_min_employees }} then 'enterprise'
            when accounts.employee_count >= {{ mid_market_min_employees }} then 'mid_market'
            else 'smb'
        end as company_size
    from resolved
    left join countries
        on resolved.country_code = countries.country_code
    left join accounts
        on resolved.account_id = accounts.account_id
)

select * from final
