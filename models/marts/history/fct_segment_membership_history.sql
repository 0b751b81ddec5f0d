{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of_date',
    full_refresh=false,
) }}
-- Memberships kept per as-of date, with their holdout group. Each run replaces the rows
-- of its own as-of date and keeps every other date, so runs are idempotent and a
-- backfill fills the dates it is given. --full-refresh never drops this history.
with memberships as (
    select * from {{ ref('fct_segment_memberships') }}
),

holdouts as (
    select * from {{ ref('fct_segment_holdouts') }}
),

final as (
    select
        memberships.as_of_date,
        memberships.customer_id,
        memberships.segment_family,
        memberships.segment,
        holdouts.holdout_group,
        memberships.is_emailable
    from memberships
    inner join holdouts
        on
            memberships.as_of_date = holdouts.as_of_date
            and memberships.customer_id = holdouts.customer_id
            and memberships.segment_family = holdouts.segment_family
            and memberships.segment = holdouts.segment
)

select * from final
