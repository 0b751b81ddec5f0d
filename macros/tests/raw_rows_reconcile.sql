{#- On a raw source table: its row count equals raw_rows in dq_reconciliation, and
    raw_rows = kept_rows + superseded_rows + rejected_rows (nothing lost, nothing
    counted twice). Returns the offending row; a missing reconciliation row fails. -#}
{% test raw_rows_reconcile(model) %}

with raw_count as (
    select count(*) as counted_rows from {{ model }}
),

reconciliation as (
    select * from {{ ref('dq_reconciliation') }}
    where source_table = '{{ model.identifier }}'
)

select
    raw_count.counted_rows,
    reconciliation.raw_rows,
    reconciliation.kept_rows,
    reconciliation.superseded_rows,
    reconciliation.rejected_rows
from raw_count
left join reconciliation on 1 = 1
where
    reconciliation.raw_rows is null
    or reconciliation.raw_rows <> raw_count.counted_rows
    or reconciliation.raw_rows
    <> reconciliation.kept_rows + reconciliation.superseded_rows + reconciliation.rejected_rows

{% endtest %}
