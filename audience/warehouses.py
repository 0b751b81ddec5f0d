"""The main command on a server engine (``run --target postgres`` or ``--target spark``):
what differs between PostgreSQL and Spark behind the steps they share.

Both build into schema ``marts_working`` with dbt, fit the predictive models between
two dbt calls (dbt runs no Python models there), audit the working schema and publish
it as SPEC section 10 allows on that engine: one transaction on PostgreSQL
(audience.publish_postgres), views repointed to a versioned copy on Spark
(audience.publish_spark). The exports and the report are staged from the build being
published before readers see it, and ``current`` is switched after.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

from audience import predictive, publish_postgres, publish_spark
from audience.export import SOURCE_TABLES, StagedExport, discard, stage_export
from audience.project import PROJECT_DIR, run_dbt
from audience.publish import Facts, LogRow, PublishError, private_files
from audience.raw_schema import RAW_TABLES, Locations

if TYPE_CHECKING:
    from psycopg2.extensions import connection
    from pyspark.sql import SparkSession


class Warehouse(Protocol):
    """One server engine as the main command uses it."""

    #: The engine's name in messages.
    name: str
    #: Where readers find the published marts, for the last line of the run.
    published_where: str
    #: The errors of the engine's driver: a step that raises one failed.
    errors: tuple[type[BaseException], ...]
    #: Whether the main command may load demo raw tables into it (``load_raw``).
    loads_raw: bool

    def latest_publish(self) -> LogRow | None: ...

    def stage_published_export(self, folder: Path) -> StagedExport: ...

    def missing_raw_tables(self, locations: Locations) -> list[str]: ...

    def load_raw(self, duckdb_file: Path, dbt_args: list[str]) -> dict[str, int]:
        """Replace the raw tables with those of a DuckDB file; their rows per table."""
        ...

    def load_fit(self, as_of_date: str, settings: dict[str, int]) -> None: ...

    def working_facts(self, families: list[str]) -> Facts: ...

    def published_facts(self, families: list[str]) -> Facts | None: ...

    def publish(
        self, row: LogRow, reader_role: str, folder: Path, freshness: list[dict[str, str]]
    ) -> tuple[StagedExport, list[str]]: ...

    def close(self) -> None: ...


class Postgres:
    """PostgreSQL (target ``postgres``): raw tables are on the server already."""

    name = "PostgreSQL"
    published_where = f"schema {publish_postgres.PUBLISHED_SCHEMA}"
    #: A team's shared server: the main command never writes its raw schema.
    loads_raw = False

    def __init__(self) -> None:
        import psycopg2

        self.errors: tuple[type[BaseException], ...] = (psycopg2.Error,)
        self.conn: connection = publish_postgres.connect()

    def latest_publish(self) -> LogRow | None:
        return publish_postgres.latest_publish(self.conn)

    def stage_published_export(self, folder: Path) -> StagedExport:
        return publish_postgres.stage_published_export(self.conn, folder)

    def missing_raw_tables(self, locations: Locations) -> list[str]:
        return publish_postgres.missing_raw_tables(self.conn, locations)

    def load_raw(self, duckdb_file: Path, dbt_args: list[str]) -> dict[str, int]:
        raise PublishError("the raw tables on PostgreSQL are loaded by their owners (SPEC section 1)")

    def load_fit(self, as_of_date: str, settings: dict[str, int]) -> None:
        predictive.load_into_postgres(self.conn, as_of_date, settings)

    def working_facts(self, families: list[str]) -> Facts:
        return publish_postgres.working_facts(self.conn, families)

    def published_facts(self, families: list[str]) -> Facts | None:
        return publish_postgres.published_facts(self.conn, families)

    def publish(
        self, row: LogRow, reader_role: str, folder: Path, freshness: list[dict[str, str]]
    ) -> tuple[StagedExport, list[str]]:
        return publish_postgres.publish_with_export(self.conn, row, reader_role, folder, freshness)

    def close(self) -> None:
        self.conn.close()


class Spark:
    """A local Spark in this process (target ``spark``, dbt-spark's method ``session``):
    its metastore and warehouse under ``$AUDIENCE_SPARK_DIR`` (default .spark/ here), so
    one run's marts are the next run's published ones. Raw tables come from a DuckDB file
    (audience.spark.load_raw) when the catalog has none."""

    name = "Spark"
    published_where = f"the views of Spark schema {publish_spark.PUBLISHED_SCHEMA}"
    loads_raw = True

    def __init__(self, dbt_args: list[str]) -> None:
        """Start the session: dbt-spark starts it on its first connection, with the
        profile's settings, so a trivial dbt query opens it and this process then uses
        the same session (``dbt_args``: the run's --vars, for one parse)."""
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        from audience.spark import SPARK_DIR_ENV, running_session, unavailable

        self.errors: tuple[type[BaseException], ...] = (PySparkException, Py4JError)
        reason = unavailable()
        if reason is not None:
            raise RuntimeError(f"a local Spark cannot run here: {reason}")
        os.environ.setdefault(SPARK_DIR_ENV, str(PROJECT_DIR / ".spark"))
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only
        # PySpark converts timestamps to the process's time zone; the marts' are UTC.
        os.environ["TZ"] = "UTC"
        time.tzset()
        opened = run_dbt(
            ["show", "--inline", "select 1 as ready", "--target", "spark", "--log-level", "none", *dbt_args]
        )
        if not opened.success:
            raise RuntimeError(f"dbt could not open the Spark session: {opened.exception or 'see logs/dbt.log'}")
        self.session: SparkSession = running_session()
        # Spark's warnings repeat per dbt thread ("Using an existing Spark session"); its
        # errors still reach the terminal, and dbt's log has the rest.
        self.session.sparkContext.setLogLevel("ERROR")
        self.query = publish_spark.session_query(self.session)

    def latest_publish(self) -> LogRow | None:
        return publish_spark.latest_publish(self.query)

    def stage_published_export(self, folder: Path) -> StagedExport:
        latest = self.latest_publish()
        if latest is None:
            raise PublishError("nothing has been published: exports are written from the published build only")
        return stage_spark_export(self.session, publish_spark.published_schema(latest.build_id), folder)

    def missing_raw_tables(self, locations: Locations) -> list[str]:
        return [
            locations[table].relation(table)
            for table in RAW_TABLES
            if not self.session.catalog.tableExists(locations[table].relation(table))
        ]

    def load_raw(self, duckdb_file: Path, dbt_args: list[str]) -> dict[str, int]:
        from audience.spark import load_raw

        counts, result = load_raw(duckdb_file, ["--target", "spark", "--quiet", *dbt_args])
        if not result.success:
            raise RuntimeError(f"loading the raw tables into Spark failed: {result.exception or 'see logs/dbt.log'}")
        return counts

    def load_fit(self, as_of_date: str, settings: dict[str, int]) -> None:
        from audience.spark import load_predictive

        load_predictive(self.session, as_of_date, settings)

    def working_facts(self, families: list[str]) -> Facts:
        return publish_spark.working_facts(self.query, families)

    def published_facts(self, families: list[str]) -> Facts | None:
        return publish_spark.published_facts(self.query, families)

    def publish(
        self, row: LogRow, reader_role: str, folder: Path, freshness: list[dict[str, str]]
    ) -> tuple[StagedExport, list[str]]:
        """Publish; the exports are staged from the complete copy before any view is
        repointed, so a failed export publishes nothing. Spark has no grants to give
        (``reader_role`` is PostgreSQL's)."""
        staged: list[StagedExport] = []
        try:
            published = publish_spark.publish(
                self.query,
                row,
                before_repoint=lambda schema: staged.append(
                    stage_spark_export(self.session, schema, folder, freshness)
                ),
            )
        except BaseException:
            for export in staged:
                discard(export)
            raise
        notes = [f"readers saw a mix of two builds for at most {published.window_seconds:.2f} s (views repointed)"]
        return staged[0], notes

    def close(self) -> None:
        """The session stays: dbt owns it, and it ends with this process."""


def stage_spark_export(
    session: SparkSession, schema: str, folder: Path, freshness: list[dict[str, Any]] | tuple[()] = ()
) -> StagedExport:
    """Stage the exports and the report of the build in Spark schema ``schema`` (a
    published copy) through audience.export: Spark writes every table ``stage_export``
    reads (``SOURCE_TABLES``) as Parquet, which keeps the exact types (decimals, dates,
    timestamps in UTC), and DuckDB reads the files into a temporary file."""
    present = {str(row[1]) for row in session.sql(f"show tables in {schema}").collect()}
    with private_files(), tempfile.TemporaryDirectory(prefix="audience-export-") as temporary:
        scratch = Path(temporary)
        copy = scratch / "published.duckdb"
        with duckdb.connect(str(copy)) as con:
            con.execute("create schema marts")
            for name in SOURCE_TABLES:
                if name not in present:
                    continue
                files = scratch / name
                session.table(f"{schema}.{name}").write.parquet(str(files))
                con.execute(f"create table marts.{name} as select * from read_parquet('{files}/*.parquet')")
        return stage_export(copy, folder, freshness)
