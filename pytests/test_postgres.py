"""The same project on a real PostgreSQL server: marts equal DuckDB's row for row (after
a second, incremental run on PostgreSQL). dbt builds PostgreSQL's marts into the working
schema marts_working; publishing them is test_publish_postgres.py.

The server is started here (conftest.server, audience.postgres) and stopped afterwards.
When PostgreSQL cannot be installed or started the suite is skipped with the reason,
unless AUDIENCE_REQUIRE_POSTGRES=1 (CI sets it), which turns that into a failure.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import duckdb
import pytest

from audience.generate import generate
from audience.postgres import Server, load_raw
from audience.predictive import load_into_postgres, settings
from audience.project import project_vars, run_dbt
from audience.publish_postgres import WORKING_SCHEMA
from conftest import INJECTIONS, dbt_in, fetch, server_env

AS_OF = "2026-06-30"
MARTS = {
    "dim_customers": "customer_id",
    "dim_customer_features": "customer_id",
    "fct_customer_categories": "customer_id, category",
    "dim_segments": "segment_family, segment",
    "fct_orders": "order_id",
    "fct_email_events": "event_id",
    "fct_segment_memberships": "customer_id, segment_family, segment",
    "fct_segment_holdouts": "customer_id, segment_family, segment",
    "dq_rejected_rows": "source_table, source_key, reason",
    "dq_reconciliation": "source_table",
    "fct_segment_outcomes": "cohort_date, segment_family, segment, outcome_group, window_days",
    "fct_segment_lift": "cohort_date, segment_family, segment, window_days, comparison",
    "fct_priority_list_members": "list_name, customer_id",
    "fct_priority_list_exports": "list_name, customer_id",
    "fct_campaign_compliance": "campaign_id",
    "fct_email_sends": "campaign_id, customer_id",
    "predictive_model_params": "model, parameter",
}
NOT_COMPARED = {"built_at"}


@pytest.fixture(scope="module")
def duckdb_build(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the S profile on DuckDB and on PostgreSQL (then run PostgreSQL's models
    again, incrementally); return the DuckDB file."""
    workdir = tmp_path_factory.mktemp("engines")
    database = workdir / "audience.duckdb"
    generate(database, profile="S", as_of_date=dt.date.fromisoformat(AS_OF), seed=3)
    args = ["build", "--vars", json.dumps({"as_of_date": AS_OF})]
    started = time.perf_counter()
    assert dbt_in(workdir / "duckdb", database, args).success
    seconds = {"duckdb": time.perf_counter() - started}
    load_raw(database, server)
    with server_env(server):
        postgres = ["--target", "postgres", "--target-path", str(workdir / "pg-target"), "--log-path", str(workdir / "pg-logs")]
        started = time.perf_counter()
        result = run_dbt([*args, *postgres])
        seconds["postgres"] = time.perf_counter() - started
        # The predictive models are fitted outside dbt here (audience.predictive), on the
        # order-day summary the build left; the next run reads what was loaded.
        if result.success:
            with server.connect() as conn:
                load_into_postgres(conn, AS_OF, settings(project_vars()))
        # Once more: the incremental models take their incremental path (the keys landed in
        # the lookback window are reclassified) and the marts are rebuilt from them.
        if result.success:
            result = run_dbt(["run", "--vars", json.dumps({"as_of_date": AS_OF}), *postgres])
    assert result.success, f"dbt build or the second run on PostgreSQL failed; logs in {workdir / 'pg-logs'}"
    print(f"\nbuild of profile S: DuckDB {seconds['duckdb']:.1f} s, PostgreSQL {seconds['postgres']:.1f} s")
    return database


@pytest.mark.parametrize("mart", list(MARTS))
def test_marts_are_equal_on_both_engines(server: Server, duckdb_build: Path, mart: str) -> None:
    with duckdb.connect(str(duckdb_build), read_only=True) as con:
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = ? order by ordinal_position",
                [mart],
            ).fetchall()
            if name not in NOT_COMPARED
        ]
        duck = fetch(con.execute(f"select {', '.join(columns)} from marts.{mart}").fetchall())
    with server.connect() as pg, pg.cursor() as cur:
        cur.execute(f"select {', '.join(columns)} from {WORKING_SCHEMA}.{mart}")
        postgres = fetch(cur.fetchall())
    assert len(duck) > 0
    assert len(postgres) == len(duck)
    for left, right in zip(duck, postgres):
        assert all(
            abs(a - b) <= 0.01 if isinstance(a, float) and isinstance(b, float) else a == b
            for a, b in zip(left, right)
        ), (mart, left, right)



@pytest.mark.parametrize("name", ["raw_personal_data", "local_file", "second_statement"])
def test_unsafe_predicates_are_refused_on_postgres(server: Server, duckdb_build: Path, tmp_path: Path, name: str) -> None:
    audiences = [{"name": "bad_audience", "description": "An attack.", "predicate": INJECTIONS[name]}]
    with server_env(server):
        result = run_dbt([
            "run", "--select", "int_segment_memberships_grouped", "--target", "postgres",
            "--vars", json.dumps({"as_of_date": AS_OF, "custom_audiences": audiences}),
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
        ])  # fmt: skip
    assert not result.success
    errors = " ".join(str(r.message) for r in result.result.results)
    assert "custom audience 'bad_audience'" in errors and ("not allowed" in errors or "no ';'" in errors)


def test_dbt_builds_no_published_schema_on_a_server(server: Server, duckdb_build: Path) -> None:
    """Readers' schema marts is publishing's alone: dbt writes the working schema."""
    with server.connect() as pg, pg.cursor() as cur:
        cur.execute("select schema_name from information_schema.schemata")
        schemas = {name for (name,) in cur.fetchall()}
    assert {"staging", "intermediate", "seeds", WORKING_SCHEMA} <= schemas
    assert "marts" not in schemas
