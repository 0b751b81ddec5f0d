-- Every rejected raw row of every raw table, with the one reason that rejected it: the
-- base models' rejects, and the rows they kept that a rule across tables rejected.
with rejected_rows as (
    {% for source_table, base_model in audience.dq_base_models().items() %}
        select
            '{{ source_table }}' as source_table,
            dq_source_key as source_key,
            dq_reject_reason as reason,
            _loaded_at as loaded_at
        from {{ ref(base_model) }}
        where dq_status = 'rejected'
        union all
    {% endfor %}
    select
        source_table,
        dq_source_key as source_key,
        dq_reject_reason as reason,
        _loaded_at as loaded_at
    from {{ ref('base_shop__cross_checked') }}
    where dq_status = 'rejected'
),

final as (
    select
        {{ dbt.cast('source_table', dbt.type_string()) }} as source_table,
        {{ dbt.cast('source_key', dbt.type_string()) }} as source_key,
        {{ dbt.cast('reason', dbt.type_string()) }} as reason,
        {{ dbt.cast('loaded_at', dbt.type_timestamp()) }} as loaded_at
    from rejected_rows
)

select * from final
