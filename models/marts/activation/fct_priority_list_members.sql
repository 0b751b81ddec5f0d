{{ config(
    materialized='incremental',
    incremental_strategy=audience.per_date_strategy(),
    partition_by=audience.per_date_partition(),
    on_schema_change='append_new_columns',
    full_refresh=false,
    pre_hook="{{ audience.delete_as_of_rows() }}",
) }}
-- Priority lists (var priority_lists): every customer in at least one listed segment on
-- the as-of date gets one row per list, for the first listed segment it is in, with
-- priority_rank its position (from 1) and that membership's groups and sendability.
-- A segment absent on the date matches nobody. Kept per as-of date like the history.
{%- set lists = audience.priority_lists() %}
with grouped as (
    select * from {{ ref('int_segment_memberships_grouped') }}
),

entries as (
    {%- for list in lists %}
        {%- set outer = loop %}
        {%- for entry in list['segments'] %}
            select
                '{{ list["name"] }}' as list_name,
                '{{ entry.split(".")[0] }}' as segment_family,
                '{{ entry.split(".")[1] | replace("'", "''") }}' as segment,
                {{ loop.index }} as priority_rank
            {%- if not (outer.last and loop.last) %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as list_name,
            cast(null as {{ dbt.type_string() }}) as segment_family,
            cast(null as {{ dbt.type_string() }}) as segment,
            0 as priority_rank
        from grouped
        where 1 = 0
    {%- endfor %}
),

matched as (
    select
        grouped.as_of_date,
        entries.list_name,
        grouped.customer_id,
        grouped.segment_family,
        grouped.segment,
        entries.priority_rank,
        grouped.holdout_group,
        grouped.is_global_control,
        grouped.is_emailable,
        grouped.is_sendable,
        row_number() over (
            partition by entries.list_name, grouped.customer_id
            order by entries.priority_rank
        ) as pick
    from grouped
    inner join entries
        on
            grouped.segment_family = entries.segment_family
            and grouped.segment = entries.segment
),

final as (
    select
        as_of_date,
        {{ dbt.cast('list_name', dbt.type_string()) }} as list_name,
        customer_id,
        segment_family,
        segment,
        cast(priority_rank as {{ dbt.type_int() }}) as priority_rank,
        holdout_group,
        is_global_control,
        is_emailable,
        is_sendable
    from matched
    where pick = 1
)

select * from final
