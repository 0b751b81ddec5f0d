{{ config(
    materialized='incremental',
    incremental_strategy=audience.per_date_strategy(),
    partition_by=audience.per_date_partition(),
    on_schema_change='append_new_columns',
    full_refresh=false,
    pre_hook="{{ audience.delete_as_of_rows() }}",
) }}
-- Memberships kept per as-of date, with their holdout group, global-control flag and
-- sendability as they were on that date (changing a pct never rewrites the past). Each
-- run deletes the rows of its own as-of date and inserts them anew, keeping every other
-- date: re-running a date replaces it, and a backfill fills the dates it is given.
-- --full-refresh leaves this history alone (full_refresh=false); rebuild it with the
-- backfill command.
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
        is_emailable,
        is_global_control,
        is_sendable
    from grouped
)

select * from final
