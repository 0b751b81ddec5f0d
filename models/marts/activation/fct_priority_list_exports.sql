-- What the sending tools receive per priority list: its sendable rows on the as-of date
-- (emailable, treatment in the matched segment, not global control), with the email, so
-- one person gets at most one message per list.
with members as (
    select * from {{ ref('fct_priority_list_members') }}
    where
        as_of_date = {{ audience.as_of_date() }}
        and is_sendable
),

customers as (
    select * from {{ ref('dim_customers') }}
),

final as (
    select
        members.as_of_date,
        members.list_name,
        members.customer_id,
        customers.email,
        members.segment_family,
        members.segment,
        members.priority_rank,
        members.holdout_group
    from members
    inner join customers
        on members.customer_id = customers.customer_id
)

select * from final
