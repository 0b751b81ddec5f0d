"""The summary printed at the end of ``make run``, from the published database: what a
marketer wants to see first (customers, buyers, segments), then what was built and what
was rejected."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
from tabulate import tabulate


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _table(rows: list[tuple], headers: list[str]) -> str:
    return tabulate(rows, headers=headers, intfmt=",", floatfmt=".1f", tablefmt="simple")


def _headline(con: duckdb.DuckDBPyConnection) -> list[str]:
    as_of, customers, buyers, emailable, suppressed, revenue = _rows(
        con,
        "select max(as_of_date), count(*), count(*) filter (where counted_orders > 0), "
        "count(*) filter (where is_emailable), count(*) filter (where is_suppressed), "
        "sum(net_revenue_usd) from marts.dim_customers",
    )[0]
    rejected = _rows(con, "select count(*) from marts.dq_rejected_rows")[0][0]
    buyer_share = 100.0 * buyers / customers if customers else 0.0
    return [
        f"As of {as_of}: {customers:,} customers, {buyers:,} buyers ({buyer_share:.1f} %), "
        f"{emailable:,} emailable, {suppressed:,} suppressed; net revenue {revenue or 0:,.2f} USD.",
        f"{rejected:,} raw rows rejected (marts.dq_rejected_rows).",
    ]


def _segments(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Members per segment, as a share of the family's population (customers, or buyers),
    which the catalogue carries from the family registry (var segment_families)."""
    rows = _rows(
        con,
        """
        with sizes as (
            select segment_family, segment, count(*) as members,
                   count(*) filter (where is_emailable) as emailable
            from marts.fct_segment_memberships
            group by segment_family, segment
        ),
        populations as (
            select count(*) as customers, count(*) filter (where counted_orders > 0) as buyers
            from marts.dim_customers
        ),
        families as (
            select distinct segment_family, population from marts.dim_segments
        )
        select sizes.segment_family, sizes.segment, sizes.members,
               100.0 * sizes.members / nullif(case when families.population = 'buyers' then buyers
                   else customers end, 0) as share,
               sizes.emailable
        from sizes cross join populations
        left join families on families.segment_family = sizes.segment_family
        order by sizes.segment_family, sizes.members desc, sizes.segment
        """,
    )
    shown, previous = [], None
    for family, segment, members, share, emailable in rows:
        shown.append((family if family != previous else "", segment, members, share, emailable))
        previous = family
    return shown


def _churn_risk(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], str]:
    """Buyers per churn_risk segment with the predicted value of the next 365 days (sum of
    clv_365d_usd), and how the two predictive fits went."""
    rows = _rows(
        con,
        """
        select churn_risk, count(*) as buyers,
               100.0 * count(*) / sum(count(*)) over () as share,
               avg(p_alive) as mean_p_alive,
               sum(expected_orders_365d) as expected_orders,
               sum(clv_365d_usd) as predicted_value_usd
        from marts.dim_customers
        where churn_risk is not null
        group by churn_risk
        order by case churn_risk when 'high' then 1 when 'medium' then 2 when 'low' then 3
                 when 'one_time' then 4 else 5 end
        """,
    )
    fits = _rows(
        con,
        "select model, bool_and(converged), max(n_customers), max(failure_reason) "
        "from marts.predictive_model_params group by model order by model",
    )
    status = "; ".join(
        f"{model} on {customers:,} buyers: " + ("converged" if converged else f"not fitted ({reason})")
        for model, converged, customers, reason in fits
    )
    return rows, status


def _buyer_families(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        family
        for (family,) in _rows(
            con, "select distinct segment_family from marts.dim_segments where population = 'buyers' order by 1"
        )
    ]


def summary(database: Path) -> str:
    """Headline, segments per family, rows per mart, reconciliation and rejects."""
    with duckdb.connect(str(database), read_only=True) as con:
        build_id, published_at = _rows(
            con, "select build_id, published_at from marts.publish_log order by published_at desc limit 1"
        )[0]
        headline = _headline(con)
        segments = _segments(con)
        churn_risk, fits = _churn_risk(con)
        buyer_families = _buyer_families(con)
        marts = _rows(
            con,
            "select table_name from information_schema.tables where table_schema = 'marts' order by table_name",
        )
        mart_rows = [(name, _rows(con, f'select count(*) from marts."{name}"')[0][0]) for (name,) in marts]
        reconciliation, rejects = _raw_rows(con)
    return "\n".join(
        [
            f"audience: {database}, build {build_id} published at {published_at:%Y-%m-%d %H:%M} UTC",
            "",
            *headline,
            "",
            f"Segments (share of customers; of buyers for {', '.join(buyer_families)})",
            _table(segments, ["family", "segment", "members", "share %", "emailable"]),
            "",
            f"Churn risk and predicted value of the next 365 days (SPEC section 11; {fits})",
            _table(churn_risk, ["churn_risk", "buyers", "share %", "mean p_alive", "expected orders", "predicted USD"]),
            "",
            "Rows per mart",
            _table(mart_rows, ["mart", "rows"]),
            "",
            "Raw rows: kept, superseded (older versions, re-deliveries) and rejected",
            _table(reconciliation, ["raw table", "raw", "kept", "superseded", "rejected"]),
            "",
            "Rejected rows by reason (marts.dq_rejected_rows)",
            _table(rejects, ["raw table", "reason", "rows"]),
        ]
    )


def _raw_rows(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    """Per raw table its raw, kept, superseded and rejected rows; and its rejected rows
    per reason, largest first."""
    reconciliation = _rows(
        con,
        "select source_table, raw_rows, kept_rows, superseded_rows, rejected_rows "
        "from marts.dq_reconciliation order by source_table",
    )
    rejects = _rows(
        con,
        "select source_table, reason, count(*) from marts.dq_rejected_rows "
        "group by source_table, reason order by source_table, count(*) desc, reason",
    )
    return reconciliation, rejects


def _wrapped(label: str, items: list[str], width: int = 100) -> list[str]:
    """``label: a, b, c`` wrapped under the first item, never inside an item."""
    lines = textwrap.wrap(
        ", ".join(item.replace(" ", "\0") for item in items),
        width=width,
        initial_indent=label,
        subsequent_indent=" " * len(label),
    )
    return [line.replace("\0", " ") for line in lines]


def _reasons(counts: list[tuple[str, int]], shown: int = 2) -> str:
    """The largest reasons with their rows, and how many more there are."""
    text = ", ".join(f"{reason} {rows:,}" for reason, rows in counts[:shown])
    return text + (f" (+{len(counts) - shown} more)" if len(counts) > shown else "")


def brief_summary(database: Path) -> str:
    """The summary ``make run`` prints: the headline, each family's segments with their
    members on a line or two, and one row per raw table with its main reject reasons.
    :func:`summary` (``python -m audience summary``) has every table in full."""
    with duckdb.connect(str(database), read_only=True) as con:
        build_id, published_at = _rows(
            con, "select build_id, published_at from marts.publish_log order by published_at desc limit 1"
        )[0]
        headline = _headline(con)
        sizes = _rows(
            con,
            "select segment_family, segment, count(*) from marts.fct_segment_memberships "
            "group by segment_family, segment order by segment_family, count(*) desc, segment",
        )
        reconciliation, rejects = _raw_rows(con)
    reasons: dict[str, list[tuple[str, int]]] = {}
    for table, reason, rows in rejects:
        reasons.setdefault(table, []).append((reason, rows))
    raw = [(*row, _reasons(reasons.get(row[0], []))) for row in reconciliation]
    families: dict[str, list[str]] = {}
    for family, segment, members in sizes:
        families.setdefault(family, []).append(f"{segment} {members:,}")
    width = max(map(len, families), default=0) + 2
    segment_lines = [line for family, items in families.items() for line in _wrapped(f"{family:<{width}}", items)]
    return "\n".join(
        [
            f"audience: {database}, build {build_id} published at {published_at:%Y-%m-%d %H:%M} UTC",
            "",
            *headline,
            "",
            "Segments and their members (python -m audience summary: shares, emailable, rows per mart)",
            *segment_lines,
            "",
            "Raw rows: kept, superseded (older versions, re-deliveries) and rejected, by main reason",
            _table(raw, ["raw table", "raw", "kept", "superseded", "rejected", "rejected by reason"]),
        ]
    )
