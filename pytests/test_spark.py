"""The same project on Apache Spark (issue 16): marts equal DuckDB's row for row, after a
second, incremental run on Spark. dbt builds Spark's marts into the working schema
marts_working, in a local Spark inside this process (target spark, method session),
with its metastore and warehouse in a temporary folder.

Needs requirements-spark.txt (scripts/install_spark.sh) and Java 17. Without them the
suite is skipped with the reason, unless AUDIENCE_REQUIRE_SPARK=1, which turns that into
a failure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import dbt_in, fetch

from audience import publish, publish_spark
from audience.cli import main
from audience.export import CURRENT, MANIFEST
from audience.generate import generate
from audience.project import DATABASE_ENV, environment, exclusive_families, run_dbt
from audience.publish_spark import session_query
from audience.spark import SPARK_DIR_ENV, running_session, unavailable

AS_OF = "2026-06-30"
WORKING_SCHEMA = "marts_working"
MARTS = {
    "dim_customers": "customer_id",
    "dim_customer_features": "customer_id",
    "fct_customer_categories": "customer_id, category",
    "dim_segments": "segment_family, segment",
    "fct_orders": "order_id",
    "fct_email_events": "event_id",
    "fct_segment_memberships": "customer_id, segment_family, segment",
    "fct_segment_holdouts": "customer_id, segment_family, segment",
    "fct_segment_membership_history": "as_of_date, customer_id, segment_family, segment",
    "fct_segment_performance": "as_of_date, segment_family, segment",
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
def spark_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder of this test process for Spark's metastore, warehouse and scratch, set for
    the module; skipped with the reason when no local Spark can run here (a failure under
    AUDIENCE_REQUIRE_SPARK=1). The module's one Spark session (in this process, started
    by the first dbt command on target spark) is stopped at the end."""
    reason = unavailable()
    if reason is not None:
        if os.environ.get("AUDIENCE_REQUIRE_SPARK") == "1":
            pytest.fail(f"Spark suite required (AUDIENCE_REQUIRE_SPARK=1) but {reason}")
        pytest.skip(f"Spark suite skipped: {reason}")
    folder = tmp_path_factory.mktemp("spark")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(SPARK_DIR_ENV, str(folder))
        monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        monkeypatch.setenv("TZ", "UTC")  # PySpark hands timestamps over in local time
        time.tzset()
        yield folder
        from pyspark import SparkContext

        if SparkContext._active_spark_context is not None:
            SparkContext._active_spark_context.stop()
    time.tzset()


@dataclass(frozen=True)
class SparkBuild:
    """The S profile built on DuckDB (its file) and published on Spark by the main
    command (its exit code, output and export folder)."""

    database: Path
    code: int
    output: str
    exports: Path


@pytest.fixture(scope="module")
def spark_build(spark_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkBuild]:
    """Build the S profile on DuckDB; then run the main command on Spark (raw loaded from
    the DuckDB file, the predictive fit between two builds, audits, publish, exports), and
    run Spark's models once more, incrementally."""
    workdir = tmp_path_factory.mktemp("engines")
    database = workdir / "audience.duckdb"
    generate(database, profile="S", as_of_date=dt.date.fromisoformat(AS_OF), seed=3)
    as_of = ["--vars", json.dumps({"as_of_date": AS_OF})]
    started = time.perf_counter()
    assert dbt_in(workdir / "duckdb", database, ["build", *as_of]).success
    seconds = {"duckdb": time.perf_counter() - started}
    exports = workdir / "exports"
    output = io.StringIO()
    with environment({DATABASE_ENV: str(database)}), contextlib.redirect_stdout(output):
        started = time.perf_counter()
        # The data is as of AS_OF, months ago: the freshness audit would refuse it.
        code = main(
            ["run", "--target", "spark", "--as-of-date", AS_OF, "--override", "freshness", "--export-dir", str(exports)]
        )
        seconds["spark run"] = time.perf_counter() - started
        # The incremental run: the per-date models overwrite their date's partition.
        started = time.perf_counter()
        result = run_dbt(["run", *as_of, "--target", "spark"])
        seconds["spark incremental"] = time.perf_counter() - started
    print(output.getvalue())
    assert code == 0, output.getvalue()
    assert result.success, "the second run on Spark failed"
    print("profile S: " + ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items()))
    yield SparkBuild(database, code, output.getvalue(), exports)


@pytest.mark.parametrize("mart", list(MARTS))
def test_marts_are_equal_on_both_engines(spark_build: SparkBuild, mart: str) -> None:
    with duckdb.connect(str(spark_build.database), read_only=True) as con:
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
    spark = fetch(
        [
            tuple(row)
            for row in running_session().sql(f"select {', '.join(columns)} from {WORKING_SCHEMA}.{mart}").collect()
        ]
    )
    assert len(duck) > 0
    assert len(spark) == len(duck)
    for left, right in zip(duck, spark, strict=True):
        assert all(
            abs(a - b) <= 0.01 if isinstance(a, float) and isinstance(b, float) else a == b
            for a, b in zip(left, right, strict=True)
        ), (mart, left, right)


def test_per_date_marts_are_partitioned_by_date(spark_build: SparkBuild) -> None:
    """Where rows cannot be deleted, the models kept per date overwrite their date's
    partition (macros/incremental.sql)."""
    session = running_session()
    for mart, column in [
        ("fct_segment_membership_history", "as_of_date"),
        ("fct_segment_performance", "as_of_date"),
        ("fct_priority_list_members", "as_of_date"),
        ("fct_segment_outcomes", "cohort_date"),
    ]:
        partitions = [row[0] for row in session.sql(f"show partitions {WORKING_SCHEMA}.{mart}").collect()]
        assert partitions and all(partition.startswith(f"{column}=") for partition in partitions), mart


def test_the_main_command_publishes_and_exports_the_spark_build(spark_build: SparkBuild) -> None:
    """run --target spark: the marts are views on the run's copy, its publish_log row
    records the override, and the exports hold per segment the rows DuckDB exports."""
    query = session_query(running_session())
    latest = publish_spark.latest_publish(query)
    assert latest is not None and latest.overridden_audits == "freshness"
    assert str(latest.as_of_date) == AS_OF
    assert f"published build {latest.build_id} (as of {AS_OF})" in spark_build.output
    assert "loading the raw tables of" in spark_build.output
    assert publish_spark._copies(query) == [publish_spark.published_schema(latest.build_id)]
    manifest = json.loads((spark_build.exports / CURRENT / MANIFEST).read_text())
    assert manifest["build_id"] == latest.build_id
    assert (spark_build.exports / CURRENT / "report.html").stat().st_size > 10_000
    exported = {(entry["segment_family"], entry["segment"]): entry["rows"] for entry in manifest["segments"]}
    with duckdb.connect(str(spark_build.database), read_only=True) as con:
        duck = con.execute(
            "select segment_family, segment, count(*) from marts.fct_segment_exports group by all"
        ).fetchall()
    assert exported == {(family, segment): rows for family, segment, rows in duck}
    assert sum(exported.values()) > 0
    first = manifest["segments"][0]
    with duckdb.connect() as con:
        ((rows,),) = con.execute(
            f"select count(*) from '{spark_build.exports / CURRENT / first['files'][1]}'"
        ).fetchall()
    assert rows == first["rows"]


def test_publishing_repoints_views_to_a_complete_copy(spark_build: SparkBuild) -> None:
    """SPEC section 10 on Spark (audience.publish_spark), after the main command's
    publish: two more publishes repoint the views to a complete, versioned copy each,
    publish_log last and append-only; a reader's own view survives; a reader querying
    throughout never fails and sees one copy per statement; old copies beyond two are
    dropped. Prints the window."""
    session = running_session()
    query = session_query(session)
    families = exclusive_families()
    new = publish_spark.working_facts(query, families)
    assert publish_spark.published_facts(query, families) == new
    assert publish.audit(new, new, 0.5, None) == []
    first = publish_spark.latest_publish(query)
    assert first is not None
    models = set(publish_spark._relations(query, WORKING_SCHEMA))
    windows = []
    rows = [first]
    for number in (1, 2):
        started = first.published_at + dt.timedelta(minutes=number)
        row = publish.LogRow(
            publish.new_build_id(started), dt.date.fromisoformat(AS_OF), started, started, 64, 382, 0, "", None
        )
        if number == 1:
            # A reader's own view on a published mart, and a reader polling during the publish.
            query("create schema if not exists bi")
            query(
                "create or replace view bi.customers_by_stage as select lifecycle_stage, count(*) as n "
                "from marts.dim_customers group by lifecycle_stage"
            )
            published, seen, errors = publish_while_reading(query, row)
            assert not errors, errors[:1]
            assert seen and set(seen) == {new.customers}
            assert query("select sum(n) from bi.customers_by_stage")[0][0] == new.customers
        else:
            published = publish_spark.publish(query, row)
        rows.append(row)
        windows.append(published.window_seconds)
        assert published.schema == publish_spark.published_schema(row.build_id)
        assert set(published.models) == models
        views = publish_spark._relations(query, "marts")
        assert set(views) == models | {"publish_log"} and all(views.values())
        for name in ("dim_customers", "fct_segment_memberships", "fct_orders"):
            assert query(f"select count(*) from marts.{name}") == query(f"select count(*) from {WORKING_SCHEMA}.{name}")
        log = query("select build_id from marts.publish_log order by published_at")
        assert [build_id for (build_id,) in log] == [each.build_id for each in rows]
        assert publish_spark.latest_publish(query) == row
        assert publish_spark.published_facts(query, families) == new
    assert published.dropped == [publish_spark.published_schema(first.build_id)]
    assert publish_spark._copies(query) == [publish_spark.published_schema(each.build_id) for each in rows[1:]]
    print(f"\nSpark publish: {len(models) + 1} views repointed in " + ", ".join(f"{w:.2f} s" for w in windows))

    # A publish that fails while copying leaves marts, its views and the copies as they
    # were, and drops its partial copy; the statements of one that succeeds repoint the
    # publish log last.
    statements: list[str] = []

    def failing(sql: str) -> list[tuple]:
        statements.append(sql)
        if sql.startswith("create table") and ".fct_orders " in sql:
            raise RuntimeError("copy failed")
        return query(sql)

    before = (publish_spark._copies(query), query("select count(*) from marts.publish_log"))
    started = rows[-1].started_at + dt.timedelta(minutes=1)
    failed = publish.LogRow(
        publish.new_build_id(started), dt.date.fromisoformat(AS_OF), started, started, 64, 382, 0, "", None
    )
    with pytest.raises(RuntimeError, match="copy failed"):
        publish_spark.publish(failing, failed)
    assert (publish_spark._copies(query), query("select count(*) from marts.publish_log")) == before
    assert publish_spark.latest_publish(query) == rows[-1]
    assert not any(sql.startswith(("alter view", "create view")) for sql in statements)
    statements.clear()
    publish_spark.publish(lambda sql: (statements.append(sql), query(sql))[1], failed)
    repointed = [sql.split()[2] for sql in statements if sql.startswith("alter view")]
    assert repointed[-1] == "marts.publish_log" and len(repointed) == len(models) + 1


def publish_while_reading(
    query: publish_spark.Query, row: publish.LogRow
) -> tuple[publish_spark.Published, list[int], list[BaseException]]:
    """Publish while another thread counts marts.dim_customers in a loop: the counts it
    saw and the errors it met."""
    seen: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                seen.append(query("select count(*) from marts.dim_customers")[0][0])
            except BaseException as error:
                errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        return publish_spark.publish(query, row), seen, errors
    finally:
        done.set()
        reader.join()
