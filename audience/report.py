"""The short summary printed at the end of ``make run``: what was built, what was rejected."""

from __future__ import annotations

from pathlib import Path

import duckdb
from tabulate import tabulate


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def summary(database: Path) -> str:
    """Rows per mart, then the reconciliation and rejects per raw table and reason."""
    with duckdb.connect(str(database), read_only=True) as con:
        marts = _rows(
            con,
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by table_name",
        )
        mart_rows = [
            (name, _rows(con, f'select count(*) from marts."{name}"')[0][0]) for (name,) in marts
        ]
        reconciliation = _rows(
            con,
            "select source_table, raw_rows, kept_rows, superseded_rows, rejected_rows "
            "from marts.dq_reconciliation order by source_table",
        )
        rejects = _rows(
            con,
            "select source_table, reason, count(*) from marts.dq_rejected_rows "
            "group by source_table, reason order by source_table, reason",
        )
    parts = [
        f"audience: built {database}",
        "",
        "Rows per mart",
        tabulate(mart_rows, headers=["mart", "rows"], intfmt=",", tablefmt="simple"),
        "",
        "Raw rows: kept, superseded (older versions, re-deliveries) and rejected",
        tabulate(
            reconciliation,
            headers=["raw table", "raw", "kept", "superseded", "rejected"],
            intfmt=",",
            tablefmt="simple",
        ),
        "",
        "Rejected rows by reason (marts.dq_rejected_rows)",
        tabulate(rejects, headers=["raw table", "reason", "rows"], intfmt=",", tablefmt="simple"),
    ]
    return "\n".join(parts)
