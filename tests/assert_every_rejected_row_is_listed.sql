-- Per raw table, the rejected_rows of dq_reconciliation equal the rows listed in
-- dq_rejected_rows: no rejected row is missing from the list, none is listed twice.
with reconciliation as (
    select * from {{ ref('dq_reconciliation') }}
),

listed as (
    select
        source_table,
        count(*) as listed_rows
    from {{ ref('dq_rejected_rows') }}
    group by source_table
),

compared as (
    select
        reconciliation.source_table,
        reconciliation.rejected_rows,
        coalesce(listed.listed_rows, 0) as listed_rows
    from reconciliation
    left join listed
        on reconciliation.source_table = listed.source_table
)

select * from compared
where rejected_rows <> listed_rows
