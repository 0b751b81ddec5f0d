-- One row per (customer, crm_tag segment): the tags, tagged on or before the as-of
-- date, of the customer's live CRM contacts, as segment names (Trade Show -> trade_show).
-- A tag with no letter or digit names no segment.
with customers as (
    select * from {{ ref('int_customers_unified') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where
        not is_deleted
        and {{ audience.exists_as_of('created_at') }}
),

tags as (
    select * from {{ ref('stg_crm__contact_tags') }}
    where {{ audience.on_or_before_as_of(audience.to_date('tagged_at')) }}
),

named as (
    select distinct
        customers.customer_id,
        {{ audience.slug('tags.tag') }} as segment
    from tags
    inner join contacts
        on tags.contact_id = contacts.contact_id
    inner join customers
        on contacts.email = customers.email
),

final as (
    select
        customer_id,
        segment
    from named
    where segment <> ''
)

select * from final
