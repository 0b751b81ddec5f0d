"""The HTML report: one self-contained file a marketer can open or mail.

Every publish writes it into the build's export folder (``exports/current/report.html``),
from the published file (on PostgreSQL, from a DuckDB copy of the published tables it
reads, ``TABLES``), so it always shows the build BI tools read; ``python -m audience
report --out FILE`` writes it again from the published DuckDB database. Charts are plotly's,
with plotly.js inlined once (no network, no CDN). Sections: the build (data as of, build
id, tests, overrides, freshness), segment sizes per family, size over time, lifecycle
flow, overlap, KPIs per segment, churn risk and predicted value, outcomes and lift, rejected
rows.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

# A chart container carries this attribute; the browser test checks each one rendered.
CHART_ATTRIBUTE = "data-report-chart"
TITLE = "audience: segments report"
#: Every table of schema ``marts`` the report reads, declared once: a PostgreSQL publish
#: copies these for it (audience.export.SOURCE_TABLES), and a pytest checks that the
#: queries below name no other. A section whose table ``_has_table`` finds absent (an
#: older build) is left out.
TABLES = (
    "publish_log",
    "dim_customers",
    "dim_segments",
    "fct_segment_membership_history",
    "fct_segment_transitions",
    "fct_segment_overlap",
    "fct_segment_performance",
    "predictive_model_params",
    "fct_segment_lift",
    "dq_rejected_rows",
    "dq_reconciliation",
)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    (count,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = ?", [name]
    ).fetchall()[0]
    return bool(count)


def _chart(figure: Any, name: str) -> str:
    """One figure as a div (plotly.js is inlined once, in the page head)."""
    figure.update_layout(template="plotly_white", margin={"l": 10, "r": 10, "t": 40, "b": 10})
    body = figure.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})
    return f'<div class="chart" {CHART_ATTRIBUTE}="{html.escape(name)}">{body}</div>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:,.4f}" if abs(value) < 1 else f"{value:,.1f}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(title: str, explanation: str, content: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2><p>{html.escape(explanation)}</p>{content}</section>"


def _build(con: duckdb.DuckDBPyConnection, freshness: Sequence[dict[str, Any]]) -> str:
    build_id, as_of, published_at, passed, warned, overridden = _rows(
        con,
        "select build_id, as_of_date, published_at, tests_passed, tests_warned, overridden_audits "
        "from marts.publish_log order by published_at desc limit 1",
    )[0]
    customers, buyers, emailable = _rows(
        con,
        "select count(*), count(*) filter (where frequency > 0), count(*) filter (where is_emailable) "
        "from marts.dim_customers",
    )[0]
    cards = [
        ("Data as of", str(as_of)),
        ("Customers", f"{customers:,}"),
        ("Buyers", f"{buyers:,}"),
        ("Emailable", f"{emailable:,}"),
        ("Tests passed / warned", f"{passed:,} / {warned:,}"),
        ("Build", str(build_id)),
    ]
    content = (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="label">{html.escape(label)}</div>'
            f'<div class="value">{html.escape(value)}</div></div>'
            for label, value in cards
        )
        + "</div>"
    )
    content += f"<p>Published at {published_at:%Y-%m-%d %H:%M} UTC."
    if overridden:
        content += f" <strong>Published although these audits failed: {html.escape(overridden)}.</strong>"
    content += "</p>"
    if freshness:
        content += _table(
            ["raw table", "freshness", "age of the newest row"],
            [(entry["table"], entry["status"], entry["age"]) for entry in freshness],
        )
    return _section("The build", "What this report was made from: the published build BI tools read.", content)


def _sizes(con: duckdb.DuckDBPyConnection) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = _rows(
        con,
        "select segment_family, segment, members, share_of_population from marts.dim_segments "
        "order by segment_family, members desc, segment",
    )
    families = sorted({row[0] for row in rows})
    columns = 3
    figure = make_subplots(
        rows=(len(families) + columns - 1) // columns, cols=columns, subplot_titles=families,
        horizontal_spacing=0.14, vertical_spacing=0.06,
    )  # fmt: skip
    for index, family in enumerate(families):
        members = [row for row in rows if row[0] == family][::-1]
        figure.add_trace(
            go.Bar(
                x=[row[2] for row in members],
                y=[row[1] for row in members],
                orientation="h",
                name=family,
                customdata=[row[3] for row in members],
                hovertemplate="%{y}: %{x:,} members (%{customdata:.1%} of the population)<extra></extra>",
            ),
            row=index // columns + 1,
            col=index % columns + 1,
        )
    figure.update_layout(showlegend=False, height=260 * ((len(families) + columns - 1) // columns))
    return _section(
        "Segment sizes",
        "Members of each segment on the as-of date, per family (hover for the share of the family's population).",
        _chart(figure, "sizes"),
    )


def _over_time(con: duckdb.DuckDBPyConnection) -> str:
    import plotly.graph_objects as go

    rows = _rows(
        con,
        "select segment_family, segment, as_of_date, count(*) from marts.fct_segment_membership_history "
        "group by segment_family, segment, as_of_date order by segment_family, segment, as_of_date",
    )
    families = sorted({row[0] for row in rows})
    figure = go.Figure()
    owners = []
    for family in families:
        for segment in sorted({row[1] for row in rows if row[0] == family}):
            points = [row for row in rows if row[0] == family and row[1] == segment]
            figure.add_trace(
                go.Scatter(
                    x=[row[2] for row in points], y=[row[3] for row in points], mode="lines+markers",
                    name=segment, visible=family == families[0],
                )
            )  # fmt: skip
            owners.append(family)
    buttons = [
        {
            "label": family,
            "method": "update",
            "args": [{"visible": [owner == family for owner in owners]}, {"title": f"Members per date: {family}"}],
        }
        for family in families
    ]
    figure.update_layout(
        title=f"Members per date: {families[0]}" if families else "",
        updatemenus=[{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.15, "yanchor": "top"}],
        height=420,
    )
    return _section(
        "Size over time",
        "Members per segment on each date of the membership history (choose the family on the right).",
        _chart(figure, "over_time"),
    )


def _flow(con: duckdb.DuckDBPyConnection) -> str:
    import plotly.graph_objects as go

    latest = _rows(con, "select max(as_of_date) from marts.fct_segment_transitions where segment_family = 'lifecycle'")
    if latest[0][0] is None:
        return _section("Lifecycle flow", "No lifecycle moves yet: the history has one date.", "")
    rows = _rows(
        con,
        "select coalesce(from_segment, '(none)'), coalesce(to_segment, '(none)'), count(*) "
        "from marts.fct_segment_transitions where segment_family = 'lifecycle' group by 1, 2 order by 3 desc",
    )
    stages = sorted({row[0] for row in rows} | {row[1] for row in rows})
    sources = [f"{stage} (before)" for stage in stages]
    targets = [f"{stage} (after)" for stage in stages]
    figure = go.Figure(
        go.Sankey(
            node={"label": sources + targets, "pad": 14},
            link={
                "source": [stages.index(row[0]) for row in rows],
                "target": [len(stages) + stages.index(row[1]) for row in rows],
                "value": [row[2] for row in rows],
            },
        )
    )
    figure.update_layout(height=460)
    return _section(
        "Lifecycle flow",
        "Customers who moved between lifecycle stages from one date of the history to the next, summed over "
        "the history; (none) is before a customer's first date or after leaving. Customers who stayed are not "
        "drawn.",
        _chart(figure, "lifecycle_flow"),
    )


def _overlap(con: duckdb.DuckDBPyConnection) -> str:
    import plotly.graph_objects as go

    rows = _rows(
        con,
        "select segment_family_a || '.' || segment_a, segment_family_b || '.' || segment_b, "
        "overlap_share_of_smaller from marts.fct_segment_overlap "
        "where as_of_date = (select max(as_of_date) from marts.fct_segment_overlap)",
    )
    names = sorted({row[0] for row in rows} | {row[1] for row in rows})
    if not names:
        return _section("Overlap", "No pair of non-exclusive segments shares a customer.", "")
    share = {(row[0], row[1]): row[2] for row in rows}
    matrix = [
        [1.0 if a == b else share.get((a, b), share.get((b, a))) for b in names]
        for a in names
    ]  # fmt: skip
    figure = go.Figure(
        go.Heatmap(
            z=matrix, x=names, y=names, colorscale="Blues", zmin=0, zmax=1,
            hovertemplate="%{y} and %{x}: %{z:.1%} of the smaller<extra></extra>",
        )
    )  # fmt: skip
    figure.update_layout(height=max(420, 22 * len(names) + 160))
    return _section(
        "Overlap",
        "Share of the smaller segment that is also in the other, for the segments of non-exclusive families.",
        _chart(figure, "overlap"),
    )


def _kpis(con: duckdb.DuckDBPyConnection) -> str:
    rows = _rows(
        con,
        "select segment_family, segment, members, emailable_members, buyers, orders_90d, net_revenue_90d_usd, "
        "aov_90d_usd, unique_open_rate_90d, unique_click_rate_90d, conversion_rate_30d "
        "from marts.fct_segment_performance "
        "where as_of_date = (select max(as_of_date) from marts.fct_segment_performance) "
        "order by segment_family, members desc",
    )
    headers = [
        "family", "segment", "members", "emailable", "buyers", "orders 90 d", "revenue 90 d (USD)",
        "AOV 90 d (USD)", "open rate 90 d", "click rate 90 d", "conversion 30 d",
    ]  # fmt: skip
    converted = [tuple(float(v) if hasattr(v, "as_tuple") else v for v in row) for row in rows]
    return _section("KPIs per segment", "The performance mart on the as-of date.", _table(headers, converted))


def _churn(con: duckdb.DuckDBPyConnection) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = _rows(
        con,
        "select churn_risk, count(*), coalesce(sum(clv_365d_usd), 0), avg(p_alive) from marts.dim_customers "
        "where churn_risk is not null group by churn_risk "
        "order by case churn_risk when 'high' then 1 when 'medium' then 2 when 'low' then 3 "
        "when 'one_time' then 4 else 5 end",
    )
    if not rows:
        return _section("Churn risk and predicted value", "No buyers yet.", "")
    figure = make_subplots(rows=1, cols=2, subplot_titles=["buyers", "predicted value of the next 365 days (USD)"])
    names = [row[0] for row in rows]
    figure.add_trace(go.Bar(x=names, y=[row[1] for row in rows], name="buyers"), row=1, col=1)
    figure.add_trace(go.Bar(x=names, y=[float(row[2]) for row in rows], name="predicted USD"), row=1, col=2)
    figure.update_layout(showlegend=False, height=380)
    fits = _rows(
        con,
        "select model, bool_and(converged), max(failure_reason) from marts.predictive_model_params "
        "where as_of_date = (select max(as_of_date) from marts.predictive_model_params) group by model order by model",
    )
    status = "; ".join(
        f"{model}: " + ("fitted" if converged else f"not fitted ({reason})") for model, converged, reason in fits
    )
    return _section(
        "Churn risk and predicted value",
        "Buyers per churn_risk segment (BG/NBD p_alive: high below 0.3, medium below 0.7; one_time = a single "
        f"order day) and the sum of their predicted 365-day value (Gamma-Gamma). Models: {status}.",
        _chart(figure, "churn_risk"),
    )


def _lift(con: duckdb.DuckDBPyConnection) -> str:
    import plotly.graph_objects as go

    if not _has_table(con, "fct_segment_lift"):
        return ""
    chosen = _rows(
        con,
        "select cohort_date, window_days from marts.fct_segment_lift where is_mature "
        "order by window_days desc, cohort_date desc limit 1",
    )
    if not chosen:
        return _section("Outcomes and lift", "No window is over yet: lift appears once a cohort's window ends.", "")
    cohort, window = chosen[0]
    rows = _rows(
        con,
        f"select segment_family || '.' || segment, comparison, lift, ci_low, ci_high, p_value, "
        f"treatment_members, control_members from marts.fct_segment_lift "
        f"where cohort_date = '{cohort}' and window_days = {int(window)} and lift is not null "
        f"order by comparison, lift desc",
    )
    figure = go.Figure()
    for comparison in ("holdout", "global"):
        points = [row for row in rows if row[1] == comparison]
        figure.add_trace(
            go.Scatter(
                x=[row[2] for row in points],
                y=[row[0] for row in points],
                mode="markers",
                name="vs holdout" if comparison == "holdout" else "vs global control",
                error_x={
                    "type": "data", "symmetric": False,
                    "array": [row[4] - row[2] for row in points], "arrayminus": [row[2] - row[3] for row in points],
                },
                customdata=[[row[5], row[6], row[7]] for row in points],
                hovertemplate="%{y}: lift %{x:.2%} (p = %{customdata[0]:.3f}; "
                "%{customdata[1]:,} treated, %{customdata[2]:,} control)<extra></extra>",
            )
        )  # fmt: skip
    figure.add_vline(x=0, line_dash="dot")
    figure.update_layout(height=max(420, 18 * len({row[0] for row in rows}) + 160), xaxis_tickformat=".0%")
    return _section(
        "Outcomes and lift",
        f"Conversion of treatment minus control within {window} days of the cohort of {cohort} (the latest cohort "
        "with the longest window that is over), with 95 % intervals. A bar crossing zero is no evidence of an effect.",
        _chart(figure, "lift"),
    )


def _rejects(con: duckdb.DuckDBPyConnection) -> str:
    import plotly.graph_objects as go

    rows = _rows(
        con,
        "select source_table, reason, count(*) from marts.dq_rejected_rows "
        "group by source_table, reason order by source_table, 3 desc",
    )
    figure = go.Figure()
    for reason in sorted({row[1] for row in rows}):
        points = [row for row in rows if row[1] == reason]
        figure.add_trace(
            go.Bar(x=[row[2] for row in points], y=[row[0] for row in points], name=reason, orientation="h")
        )
    figure.update_layout(barmode="stack", height=420)
    reconciliation = _rows(
        con,
        "select source_table, raw_rows, kept_rows, superseded_rows, rejected_rows from marts.dq_reconciliation "
        "order by source_table",
    )
    content = (_chart(figure, "rejects") if rows else "<p>No raw row was rejected.</p>") + _table(
        ["raw table", "raw rows", "kept", "superseded", "rejected"], reconciliation
    )
    return _section(
        "Rejected rows",
        "Raw rows kept out of the marts, by table and reason; every raw row is kept, superseded by a newer "
        "version, or rejected.",
        content,
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 2rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.card .label { color: #666; font-size: .8rem; } .card .value { font-size: 1.2rem; font-weight: 600; }
table { border-collapse: collapse; font-size: .85rem; margin: .6rem 0; }
th, td { border-bottom: 1px solid #eee; padding: .25rem .6rem; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
"""


def render(con: duckdb.DuckDBPyConnection, freshness: Sequence[dict[str, Any]] = ()) -> str:
    """The report of the latest build in an open published database, as one HTML page."""
    from plotly.offline import get_plotlyjs

    sections = [
        _build(con, freshness), _sizes(con), _over_time(con), _flow(con), _overlap(con), _kpis(con), _churn(con),
        _lift(con), _rejects(con),
    ]  # fmt: skip
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{TITLE}</title><style>{STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f"<h1>Segments report</h1><p>Made {made} by <code>audience</code>; one file, no network needed.</p>"
        + "".join(sections)
        + "</body></html>"
    )


def write_report(con: duckdb.DuckDBPyConnection, path: Path, freshness: Sequence[dict[str, Any]] = ()) -> Path:
    """Write the report of ``con``'s latest build to ``path``."""
    path.write_text(render(con, freshness), encoding="utf-8")
    return path
