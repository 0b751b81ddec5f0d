{{ config(materialized='view') }}
-- One row per (as_of_date, customer, segment family, segment), with whether the
-- customer is emailable and whether a send may reach it for this segment. A view: the
-- memberships and their groups are computed once, upstream.
with grouped as (
    select * from {{ ref('int_segment_memberships_grouped') }}
),

final as (
    select
        as_of_date,
        customer_id,
        segment_family,
        segment,
        is_emailable,
        is_sendable
    from grouped
)

select * from final
