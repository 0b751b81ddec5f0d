-- Share of raw rows rejected or superseded per raw table: where the raw data is dirtiest.
-- Compile with dbt compile and run the SQL in target/compiled against the warehouse.
with reconciliation as (
    select * from {{ ref('dq_reconciliation') }}
)

select
    source_table,
    raw_rows,
    round(100.0 * rejected_rows / nullif(raw_rows, 0), 2) as rejected_pct,
    round(100.0 * superseded_rows / nullif(raw_rows, 0), 2) as superseded_pct
from reconciliation
order by rejected_pct desc
