{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    full_refresh=false,
    pre_hook="{{ audience.delete_as_of_rows() }}",
) }}
-- Memberships kept per as-of date, with their holdout group. Each run deletes the rows
-- of its own as-of date and inserts them anew, keeping every other date: re-running a
-- date replaces it, and a backfill fills the dates it is given. --full-refresh leaves
-- this history alone (full_refresh=false); rebuild it with the backfill command.
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
