-- What the sending tools receive: per segment, its sendable members on the as-of date
-- (emailable, in the treatment group, not global control), with their email. Control
-- and global-control members are held out of every send; a suppressed customer is
-- never emailable, so never here.
with history as (
    select * from {{ ref('fct_segment_membership_history') }}
    where
        as_of_date = {{ audience.as_of_date() }}
        and is_sendable
),

customers as (
    select * from {{ ref('dim_customers') }}
),

final as (
    select
        history.as_of_date,
        history.segment_family,
        history.segment,
        history.customer_id,
        customers.email,
        history.holdout_group
    from history
    inner join customers
        on history.customer_id = customers.customer_id
)

select * from final
