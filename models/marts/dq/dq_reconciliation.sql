-- Per raw table: how many raw rows were kept, superseded or rejected. A row its base
-- model kept and a rule across tables rejected (base_shop__cross_checked) counts as
-- rejected.
with counted as (
    {% for source_table, base_model in audience.dq_base_models().items() %}
        select
            '{{ source_table }}' as source_table,
            count(*) as raw_rows,
            sum(case when dq_status = 'kept' then 1 else 0 end) as kept_rows,
            sum(case when dq_status = 'superseded' then 1 else 0 end) as superseded_rows,
            sum(case when dq_status = 'rejected' then 1 else 0 end) as rejected_rows
        from {{ ref(base_model) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

rejected_across_tables as (
    select
        source_table,
        count(*) as rejected_rows
    from {{ ref('base_shop__cross_checked') }}
    where dq_status = 'rejected'
    group by source_table
),

reconciled as (
    select
        counted.source_table,
        counted.raw_rows,
        coalesce(counted.kept_rows, 0)
        - coalesce(rejected_across_tables.rejected_rows, 0) as kept_rows,
        coalesce(counted.superseded_rows, 0) as superseded_rows,
        coalesce(counted.rejected_rows, 0)
        + coalesce(rejected_across_tables.rejected_rows, 0) as rejected_rows
    from counted
    left join rejected_across_tables
        on counted.source_table = rejected_across_tables.source_table
),

final as (
    select
        {{ dbt.cast('source_table', dbt.type_string()) }} as source_table,
        {{ dbt.cast('raw_rows', dbt.type_bigint()) }} as raw_rows,
        {{ dbt.cast('kept_rows', dbt.type_bigint()) }} as kept_rows,
        {{ dbt.cast('superseded_rows', dbt.type_bigint()) }} as superseded_rows,
        {{ dbt.cast('rejected_rows', dbt.type_bigint()) }} as rejected_rows
    from reconciled
)

select * from final
