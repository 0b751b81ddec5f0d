{{ config(materialized='view') }}
-- One row per membership row: control or treatment. Control when the membership's
-- bucket (first 8 hex digits of md5(family.segment:customer_id), mod 100) is below
-- holdout_pct: stable across runs and engines. A view: the group is computed once,
-- upstream, with the customer's global-control flag.
with grouped as (
    select * from {{ ref('int_segment_memberships_grouped') }}
),

final as (
    select
        as_of_date,
        customer_id,
        segment_family,
        segment,
        holdout_group,
        is_global_control
    from grouped
)

select * from final
