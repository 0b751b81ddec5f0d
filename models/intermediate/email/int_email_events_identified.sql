{{ config(
    materialized=audience.incremental_by_delete(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ audience.delete_reclassified('event_id', ref('base_email__events')) }}",
) }}
-- Every kept email event, whatever its date, with its customer and whether it
-- suppresses. Incremental: a run deletes the events reclassified upstream since its
-- newest row and inserts the kept ones classified since. Readers keep the events on or
-- before the as-of date themselves (audience.on_or_before_as_of).
with events as (
    select * from {{ ref('stg_email__events') }}
    {%- if is_incremental() %}
        where {{ audience.classified_since_this() }}
    {%- endif %}
),

final as (
    select
        event_id,
        {{ dbt.hash('email') }} as customer_id,
        campaign_id,
        email,
        event_type,
        bounce_type,
        coalesce(
            event_type in ('unsubscribe', 'complaint')
            or (event_type = 'bounce' and bounce_type = 'hard'),
            false
        ) as is_suppression,
        {{ audience.to_date('occurred_at') }} as event_date,
        occurred_at,
        dq_processed_at
    from events
)

select * from final
