"""Builds of the dbt project on small raw fixtures, each in its own DuckDB file, and a
throwaway PostgreSQL server for the suites that need one."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from audience.cli import main
from audience.export import EXPORT_DIR_ENV
from audience.generate import generate
from audience.postgres import PostgresUnavailable, Server, throwaway_server
from audience.project import DATABASE_ENV, PUBLISHED_ENV, environment, run_dbt
from audience.raw_schema import RAW_SCHEMA, RAW_TABLES, create_raw_tables

Rows = dict[str, list[dict[str, Any]]]


def ts(text: str) -> dt.datetime:
    """A timestamp from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text)


def load_raw(database: Path, raw: Rows) -> None:
    """Create the ten raw tables in ``database`` and insert the fixture rows."""
    with duckdb.connect(str(database)) as con:
        create_raw_tables(con)
    insert_raw(database, raw)


def insert_raw(database: Path, raw: Rows) -> None:
    """Insert rows into the raw tables of ``database``.

    Columns a row does not name are null; a column name outside the contract fails.
    """
    with duckdb.connect(str(database)) as con:
        for table, rows in raw.items():
            names = [name for name, _ in RAW_TABLES[table]]
            for row in rows:
                unknown = set(row) - set(names)
                assert not unknown, f"{table}: unknown columns {unknown}"
                placeholders = ", ".join("?" for _ in names)
                con.execute(
                    f"insert into {RAW_SCHEMA}.{table} values ({placeholders})",
                    [row.get(name) for name in names],
                )


def dbt_in(workdir: Path, database: Path, args: list[str]):
    """Run dbt with this database, logs and target inside ``workdir``."""
    previous = os.environ.get(DATABASE_ENV)
    os.environ[DATABASE_ENV] = str(database)
    try:
        return run_dbt([*args, "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")])
    finally:
        if previous is None:
            os.environ.pop(DATABASE_ENV, None)
        else:
            os.environ[DATABASE_ENV] = previous


def build(workdir: Path, raw: Rows, as_of_date: str) -> Path:
    """Load ``raw`` into a new database in ``workdir`` and ``dbt build`` it as of the date."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "audience.duckdb"
    load_raw(database, raw)
    result = dbt_in(workdir, database, ["build", "--vars", json.dumps({"as_of_date": as_of_date})])
    assert result.success, f"dbt build failed: {result.exception or 'see logs in ' + str(workdir)}"
    return database


class Db:
    """Read-only queries on a built database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


def normalised(value: object) -> object:
    """A value as the engine-equality suites compare it: numbers within 0.01, everything
    else exactly."""
    if isinstance(value, (decimal.Decimal, float)) and not isinstance(value, bool):
        return round(float(value), 2)
    return value


def fetch(rows: list[tuple]) -> list[tuple]:
    """Rows normalised and sorted, to compare one engine's mart with another's."""
    return sorted((tuple(normalised(v) for v in row) for row in rows), key=repr)


#: Test modules by their measured serial wall time, longest first (seconds, 2 cores:
#: test_publish 429, test_segment_operations 176, test_cli 174, test_incremental 172,
#: test_customers 170, test_measurement 156, test_audience_rules 110, test_postgres 103).
#: xdist hands out whole modules (--dist loadfile, --no-loadscope-reorder) in collection
#: order, so starting the long ones first keeps one worker from running a long module
#: alone at the end. Modules not listed keep their order after these.
LONGEST_FIRST = (
    "test_spark.py",
    "test_publish.py",
    "test_publish_postgres.py",
    "test_segment_operations.py",
    "test_cli.py",
    "test_incremental.py",
    "test_customers.py",
    "test_measurement.py",
    "test_audience_rules.py",
    "test_postgres.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the tests of the LONGEST_FIRST modules first, in that order (a stable sort:
    the tests of a module keep their order)."""
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))


@pytest.fixture(scope="session", autouse=True)
def dbt_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """dbt's target/ and logs/ for this test process, outside the checkout: commands that
    pass no --target-path (the CLI's run, publish's manifest) write here, so parallel
    pytest workers (pytest-xdist) never read each other's manifest."""
    folder = tmp_path_factory.mktemp("dbt")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DBT_TARGET_PATH", str(folder / "target"))
        monkeypatch.setenv("DBT_LOG_PATH", str(folder / "logs"))
        yield


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A throwaway PostgreSQL server for the module (audience.postgres). Skipped with the
    reason when PostgreSQL cannot be installed or started, unless
    AUDIENCE_REQUIRE_POSTGRES=1 (CI sets it), which turns that into a failure."""
    with ExitStack() as stack:
        try:
            running = stack.enter_context(throwaway_server())
        except PostgresUnavailable as error:
            if os.environ.get("AUDIENCE_REQUIRE_POSTGRES") == "1":
                raise
            pytest.skip(f"PostgreSQL suite skipped: {error}")
        yield running


@contextmanager
def server_env(server: Server) -> Iterator[None]:
    """The environment the project's postgres target reads, set for the block."""
    with environment(server.env()):
        yield


#: Custom-audience predicates that try to read what an audience must not (raw personal
#: data, local files, the environment) or to run more than an expression.
INJECTIONS = {
    "raw_personal_data": "customer_id in (select(md5(lower(trim(email))))from(query_table('raw.crm_contacts')))",
    "local_file": "exists(select(1)from(read_text('/etc/hostname')))",
    "from_first_query": "exists(from read_text('/etc/hostname'))",
    "second_statement": "true; select 1",
    "environment": "getenv('HOME') is not null",
    "subquery_comparison": "counted_orders = any(select 1)",
}


#: Predicates a custom audience and the preview command both refuse, with the words of
#: the refusal: the two apply the same rules (macros/custom_audiences.sql, its mirror in
#: audience/preview.py).
REFUSED_PREDICATES = [
    ("no_such_column > 1", "unknown column(s) no_such_column"),
    ("value_tier = 'high' and", "broken predicate"),
    (INJECTIONS["raw_personal_data"], "not allowed: select, md5, from, query_table"),
    (INJECTIONS["local_file"], "not allowed: exists, select, from, read_text"),
    (INJECTIONS["from_first_query"], "not allowed: exists, read_text"),
    (INJECTIONS["second_statement"], "no ';'"),
    (INJECTIONS["environment"], "not allowed: getenv"),
    (INJECTIONS["subquery_comparison"], "not allowed: any"),
    ("counted_orders > 0 and customers.email is not null", "unknown column(s) customers"),
    # past the word rules, DuckDB's parser refuses what is not a plain expression
    ("counted_orders = [1, 2][1]", "not a plain expression over dim_customers columns (refused: list_value)"),
    ("counted_orders = ?", "not a plain expression over dim_customers columns (refused: parameter)"),
]


# --- A published site: working database, published file, exports ------------------------

TODAY = dt.datetime.now(dt.timezone.utc).date()


class Site:
    """A working database, the published file and the export folder of one project."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.working = folder / "working.duckdb"
        self.published = folder / "audience.duckdb"
        self.exports = folder / "exports"

    def use(self, monkeypatch: pytest.MonkeyPatch) -> Site:
        monkeypatch.setenv(DATABASE_ENV, str(self.working))
        monkeypatch.setenv(PUBLISHED_ENV, str(self.published))
        monkeypatch.setenv(EXPORT_DIR_ENV, str(self.exports))
        return self

    def copy(self, folder: Path) -> Site:
        shutil.copytree(self.folder, folder, symlinks=True)
        return Site(folder)

    def rows(self, sql: str, database: Path | None = None) -> list[tuple]:
        with duckdb.connect(str(database or self.published), read_only=True) as con:
            return con.execute(sql).fetchall()

    def snapshot(self) -> dict[str, str]:
        """Every byte readers and sending tools see: the published file, each export
        file, and where ``current`` points."""
        seen = {"published": hashlib.sha256(self.published.read_bytes()).hexdigest()}
        for path in sorted(self.exports.rglob("*")):
            name = str(path.relative_to(self.exports))
            if path.is_symlink():
                seen[name] = "-> " + os.readlink(path)
            elif path.is_file():
                seen[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        return seen


@pytest.fixture(scope="session")
def published_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """Generated S data as of today, run once per session: built, audited, published,
    exported (the publishing and report suites read it; tests that change it use a copy)."""
    site = Site(tmp_path_factory.mktemp("published"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        site.use(monkeypatch)
        generate(site.working, profile="S", as_of_date=TODAY)
        # As of the date the data was generated for, also when the session crosses midnight UTC.
        assert main(["run", "--as-of-date", TODAY.isoformat()]) == 0  # a first run: it also backfills the history
    return site
