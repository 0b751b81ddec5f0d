-- Per raw table: how many raw rows were kept, superseded or rejected.
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

final as (
    select
        {{ dbt.cast('source_table', dbt.type_string()) }} as source_table,
        {{ dbt.cast('raw_rows', dbt.type_bigint()) }} as raw_rows,
        {{ dbt.cast('coalesce(kept_rows, 0)', dbt.type_bigint()) }} as kept_rows,
        {{ dbt.cast('coalesce(superseded_rows, 0)', dbt.type_bigint()) }} as superseded_rows,
        {{ dbt.cast('coalesce(rejected_rows, 0)', dbt.type_bigint()) }} as rejected_rows
    from counted
)

select * from final
