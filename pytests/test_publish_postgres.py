"""Publishing on a real PostgreSQL server (SPEC section 10; audience/publish_postgres.py).

A first build (as of the day before) is published directly; the second goes through
``python -m audience run --target postgres`` while a ``bi_reader`` session reads in a
loop, also while the publish transaction is open. Every read must succeed and see one
whole build, old or new; grants, readers' views and the publish log must survive; a
publish that fails midway must leave ``marts`` exactly as it was. The export folder gets
the build's exports and HTML report, made from a DuckDB copy of the published marts that
holds them value for value.

The server is conftest.server: skipped when PostgreSQL cannot be installed or started,
unless AUDIENCE_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import astuple, dataclass
from pathlib import Path

import duckdb
import psycopg2
import psycopg2.errors
import pytest

from audience import publish_postgres
from audience.cli import main
from audience.export import CURRENT, MANIFEST, REPORT, SOURCE_TABLES
from audience.generate import generate
from audience.postgres import PASSWORD, Server, load_raw
from audience.project import run_dbt
from audience.publish import LogRow, PublishError
from audience.report_html import CHART_ATTRIBUTE
from conftest import server_env
from test_report import browse, rendered_marks

OLD_AS_OF, NEW_AS_OF = dt.date(2026, 6, 29), dt.date(2026, 6, 30)
READER = "bi_reader"
#: One statement, so one snapshot: the newest build id and a fingerprint of two marts.
FINGERPRINT = """
select
    (select build_id from {schema}.publish_log order by published_at desc limit 1),
    (select count(*) from {schema}.dim_customers),
    (select sum(recency_days) from {schema}.dim_customers),
    (select count(*) from {schema}.fct_segment_memberships),
    (select sum(length(segment_family || segment)) from {schema}.fct_segment_memberships)
"""


def log_row(build_id: str, as_of: dt.date) -> LogRow:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    return LogRow(build_id, as_of, now, now, 1, 1, 0, "", None)


def rows(conn: psycopg2.extensions.connection, sql: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql)
        found = cur.fetchall()
    conn.rollback()
    return found


def marts_snapshot(conn: psycopg2.extensions.connection) -> dict[str, tuple]:
    """Every relation of schema marts: its kind, row count and an md5 of all its rows."""
    snapshot = {}
    for name, kind in rows(
        conn,
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'marts' and c.relkind in ('r', 'v')",
    ):
        snapshot[name] = (
            kind,
            *rows(
                conn,
                f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from marts.{name} t",
            )[0],
        )
    return snapshot


class Reader(threading.Thread):
    """A bi_reader session reading the fingerprint of marts in a loop, one statement a read."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.reads: list[tuple] = []
        self.errors: list[BaseException] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn = self.server.connect(user=READER, password=PASSWORD)
        conn.autocommit = True
        try:
            while not self.stop.is_set():
                try:
                    with conn.cursor() as cur:
                        cur.execute(FINGERPRINT.format(schema="marts"))
                        self.reads.append(tuple(cur.fetchall()[0]))
                except psycopg2.Error as error:
                    self.errors.append(error)
                time.sleep(0.01)
        finally:
            conn.close()


@dataclass(frozen=True)
class Published:
    """The two publishes and what the reader saw."""

    first: LogRow
    old: tuple
    new: tuple
    reads: list[tuple]
    during_transaction: list[tuple]
    errors: list[BaseException]
    exports: Path


@pytest.fixture(scope="module")
def published(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    workdir = tmp_path_factory.mktemp("publish-pg")
    raw = workdir / "generated.duckdb"
    generate(raw, profile="S", as_of_date=NEW_AS_OF, seed=3)
    load_raw(raw, server)
    with server_env(server), closing(publish_postgres.connect()) as conn:
        started = time.perf_counter()
        built = run_dbt(
            [
                "build",
                "--target",
                "postgres",
                "--vars",
                json.dumps({"as_of_date": OLD_AS_OF.isoformat()}),
                "--target-path",
                str(workdir / "target"),
                "--log-path",
                str(workdir / "logs"),
            ]
        )
        assert built.success, f"dbt build on PostgreSQL failed; logs in {workdir / 'logs'}"
        first = log_row("first-build", OLD_AS_OF)
        publish_started = time.perf_counter()
        publish_postgres.publish(conn, first, READER)
        print(
            f"\nfirst build {publish_started - started:.1f} s, "
            f"its publish {time.perf_counter() - publish_started:.1f} s"
        )
        _analyst_view(server)
        old = rows(conn, FINGERPRINT.format(schema="marts"))[0]

        reader = Reader(server)
        during: list[tuple] = []
        real_stage_export = publish_postgres.stage_export

        def stage_while_reading(*args: object, **options: object) -> object:
            """Inside the open publish transaction: let the reader read a few times."""
            start, deadline = len(reader.reads), time.monotonic() + 60
            while len(reader.reads) < start + 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            during.extend(reader.reads[start:])
            return real_stage_export(*args, **options)

        exports = workdir / "exports"
        reader.start()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(publish_postgres, "stage_export", stage_while_reading)
            started = time.perf_counter()
            code = main(
                [
                    "run",
                    "--target",
                    "postgres",
                    "--as-of-date",
                    NEW_AS_OF.isoformat(),
                    "--override",
                    "freshness",
                    "--export-dir",
                    str(exports),
                ]
            )
        print(f"run --target postgres {time.perf_counter() - started:.1f} s, {len(reader.reads)} reads")
        time.sleep(0.2)
        reader.stop.set()
        reader.join(30)
        assert code == 0
        new = rows(conn, FINGERPRINT.format(schema="marts"))[0]
        working = rows(
            conn, FINGERPRINT.format(schema="marts_working").replace("marts_working.publish_log", "marts.publish_log")
        )[0]
        assert new == working, "the published marts are the whole working build"
        yield Published(first, old, new, list(reader.reads), during, list(reader.errors), exports)


def _analyst_view(server: Server) -> None:
    """Another role's own view on marts.dim_customers, in its own schema."""
    with closing(server.connect(user="postgres")) as admin:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f"create role analyst login password '{PASSWORD}'")
            cur.execute("create schema analyst authorization analyst")
    with closing(server.connect()) as owner, owner.cursor() as cur:
        cur.execute("grant usage on schema marts to analyst")
        cur.execute("grant select on marts.dim_customers to analyst")
        owner.commit()
    with closing(server.connect(user="analyst", password=PASSWORD)) as analyst, analyst.cursor() as cur:
        cur.execute(
            "create view analyst.customers_by_date as select as_of_date, count(*) as customers from marts.dim_customers group by as_of_date"
        )
        analyst.commit()


def test_every_read_during_a_publish_sees_one_whole_build(published: Published) -> None:
    assert published.errors == []
    assert published.old[0] == "first-build"
    assert published.new[0] != published.old[0]
    assert published.new[1:] != published.old[1:], "the two builds must differ for a mixed read to show"
    assert len(published.during_transaction) >= 5, "the reader was blocked while the publish transaction was open"
    assert set(published.during_transaction) == {published.old}
    assert set(published.reads) <= {published.old, published.new}, "a read mixed two builds"
    first_new = published.reads.index(published.new)
    assert set(published.reads[first_new:]) == {published.new}, "a read went back to the old build"
    assert published.reads[-1] == published.new


def test_the_reader_keeps_select_on_every_mart_and_reads_nothing_else(server: Server, published: Published) -> None:
    with closing(server.connect()) as owner:
        marts = [
            name
            for (name,) in rows(owner, "select table_name from information_schema.tables where table_schema = 'marts'")
        ]
        working = [
            name
            for (name,) in rows(
                owner, "select table_name from information_schema.tables where table_schema = 'marts_working'"
            )
        ]
    assert set(marts) == {*working, "publish_log"}
    with closing(server.connect(user=READER, password=PASSWORD)) as reader:
        for name in marts:
            assert rows(reader, f"select count(*) from marts.{name}")[0][0] >= 0
        for relation in (
            "marts_working.dim_customers",
            "raw.shop_orders",
            "staging.stg_shop__orders",
            "intermediate.int_orders_valued",
            "seeds.countries",
        ):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), reader.cursor() as cur:
                cur.execute(f"select count(*) from {relation}")
            reader.rollback()


def test_another_roles_view_on_a_mart_survives_and_shows_the_new_build(server: Server, published: Published) -> None:
    with closing(server.connect(user="analyst", password=PASSWORD)) as analyst:
        assert rows(analyst, "select as_of_date, customers from analyst.customers_by_date") == [
            (NEW_AS_OF, published.new[1])
        ]


def test_exports_come_from_the_published_build(server: Server, published: Published) -> None:
    manifest = json.loads((published.exports / CURRENT / MANIFEST).read_text())
    assert manifest["build_id"] == published.new[0]
    assert manifest["as_of_date"] == NEW_AS_OF.isoformat()
    with closing(server.connect()) as owner:
        assert (
            sum(segment["rows"] for segment in manifest["segments"])
            == rows(owner, "select count(*) from marts.fct_segment_exports")[0][0]
            > 0
        )
        lists = rows(owner, "select list_name, count(*) from marts.fct_priority_list_exports group by list_name")
    assert len(lists) == 2 and all(count > 0 for _, count in lists)
    assert {(exported["list_name"], exported["rows"]) for exported in manifest["lists"]} == set(lists)
    assert all((published.exports / CURRENT / name).is_file() for entry in manifest["lists"] for name in entry["files"])


def chart_traces(page: str, name: str) -> list[dict]:
    """The plotly traces of the report's chart ``name``, as the page holds them."""
    start = page.index(f'{CHART_ATTRIBUTE}="{name}"')
    data = re.compile(r'Plotly\.newPlot\(\s*"[^"]+",\s*').search(page, start)
    assert data is not None, f"no plot in chart {name}"
    traces, _ = json.JSONDecoder().raw_decode(page, data.end())
    return traces


def test_the_report_shows_the_published_build(server: Server, published: Published) -> None:
    """The PostgreSQL publish writes report.html beside its exports, and it shows the
    published marts: the build, the run's freshness, the customers and every segment's
    size as the server counts them."""
    current = published.exports / CURRENT
    manifest = json.loads((current / MANIFEST).read_text())
    assert manifest["report"] == REPORT
    page = (current / REPORT).read_text()
    assert manifest["build_id"] == published.new[0] and html.escape(published.new[0]) in page
    assert NEW_AS_OF.isoformat() in page
    assert {entry["table"] for entry in manifest["freshness"]} >= {"shop_orders", "email_events"}
    assert all(entry["table"] in page for entry in manifest["freshness"])
    assert f'<div class="label">Customers</div><div class="value">{published.new[1]:,}</div>' in page
    shown = {
        (trace["name"], segment): members
        for trace in chart_traces(page, "sizes")
        for segment, members in zip(trace["y"], trace["x"], strict=True)
    }
    with closing(server.connect()) as owner:
        counted = rows(
            owner,
            "select segment_family, segment, count(*) from marts.fct_segment_memberships group by segment_family, segment",
        )
    assert len(counted) > 20
    assert {key: members for key, members in shown.items() if members} == {
        (family, segment): members for family, segment, members in counted
    }


def test_the_postgres_report_renders_in_a_browser(published: Published, tmp_path: Path) -> None:
    dom, console = browse(published.exports / CURRENT / REPORT, tmp_path)
    assert console == []
    marks = rendered_marks(dom)
    assert {"sizes", "over_time", "lifecycle_flow", "churn_risk", "rejects"} <= set(marks)
    assert all(count > 0 for count in marks.values()), marks


def test_the_export_copy_holds_the_published_marts_value_for_value(
    server: Server, published: Published, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every table the export and the report read crosses from PostgreSQL to the DuckDB
    copy through CSV unchanged: types, NULLs and empty strings (the first publish's log
    row has an empty overridden_audits and a NULL project_commit) kept apart."""
    copied: dict[str, list[tuple]] = {}

    def read_copy(copy: Path, folder: Path, freshness: object = ()) -> None:
        with duckdb.connect(str(copy), read_only=True) as con:
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall():
                copied[name] = con.execute(f"select * from marts.{name}").fetchall()

    monkeypatch.setattr(publish_postgres, "stage_export", read_copy)
    with closing(server.connect()) as conn:
        started = time.perf_counter()
        publish_postgres.stage_published_export(conn, tmp_path)
        print(
            f"\nexport copy of {len(copied)} marts ({sum(map(len, copied.values())):,} rows) "
            f"{time.perf_counter() - started:.1f} s"
        )
        assert set(copied) == set(SOURCE_TABLES)
        for name, copy in copied.items():
            assert Counter(copy) == Counter(rows(conn, f"select * from marts.{name}")), name
    [first] = [entry for entry in copied["publish_log"] if entry[0] == "first-build"]
    assert first == astuple(published.first) and first[-2:] == ("", None)


@pytest.mark.parametrize(
    ("pg_type", "expected"),
    [
        ("numeric(9,4)", "decimal(9,4)"),
        ("character varying(40)", "varchar"),
        ("text", "varchar"),
        ("timestamp without time zone", "timestamp"),
        ("double precision", "double"),
        ("numeric", None),
        ("numeric(40,2)", None),
        ("timestamp with time zone", None),
        ("jsonb", None),
    ],
)
def test_the_export_copy_maps_known_types_and_refuses_others(pg_type: str, expected: str | None) -> None:
    if expected is not None:
        assert publish_postgres.duckdb_type(pg_type, "marts.t.c") == expected
    else:
        with pytest.raises(PublishError, match=rf"marts\.t\.c has PostgreSQL type {re.escape(pg_type)}, which"):
            publish_postgres.duckdb_type(pg_type, "marts.t.c")


def test_a_publish_that_fails_midway_leaves_marts_as_they_were(
    server: Server, published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real_replace_rows = publish_postgres._replace_rows

    def fail_on_the_third(cur: psycopg2.extensions.cursor, name: str, columns: list[str]) -> None:
        calls.append(name)
        if len(calls) == 3:
            raise RuntimeError(f"insert into marts.{name} failed")
        real_replace_rows(cur, name, columns)

    monkeypatch.setattr(publish_postgres, "_replace_rows", fail_on_the_third)
    with closing(server.connect()) as conn:
        before = marts_snapshot(conn)
        with pytest.raises(RuntimeError, match="failed"):
            publish_postgres.publish(conn, log_row("failed-build", NEW_AS_OF), READER)
        assert marts_snapshot(conn) == before
    assert len(calls) == 3


def test_publish_log_is_append_only_and_unused_gone_marts_are_dropped(server: Server, published: Published) -> None:
    with closing(server.connect()) as conn:
        with conn.cursor() as cur:
            cur.execute("create table marts.retired_unused (x integer)")
            cur.execute("create table marts.retired_used (x integer)")
            cur.execute("create schema team")
            cur.execute("create view team.uses_retired as select x from marts.retired_used")
            # A mart that an older layout left as a view becomes a table the reader can read.
            cur.execute("drop table marts.fct_orders")
            cur.execute("create view marts.fct_orders as select * from marts_working.fct_orders")
        conn.commit()
        log = rows(conn, "select * from marts.publish_log order by published_at, build_id")
        assert [entry[0] for entry in log] == ["first-build", published.new[0]]
        assert log[0] == astuple(published.first)
        third = log_row("third-build", NEW_AS_OF)
        notes = publish_postgres.publish(conn, third, READER)
        assert notes == ["marts.retired_used was left in place: its model is gone, but other objects depend on it"]
        assert rows(conn, "select to_regclass('marts.retired_unused'), to_regclass('marts.retired_used')") == [
            (None, "marts.retired_used")
        ]
        assert rows(conn, "select * from marts.publish_log order by published_at, build_id") == [*log, astuple(third)]
        assert rows(conn, "select relkind from pg_class where oid = 'marts.fct_orders'::regclass") == [("r",)]
    with closing(server.connect(user=READER, password=PASSWORD)) as reader:
        assert rows(reader, "select count(*) from marts.fct_orders")[0][0] > 0


def test_run_on_a_server_without_raw_tables_fails_clearly(
    server: Server, published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    with closing(server.connect()) as conn, conn.cursor() as cur:
        cur.execute("alter table raw.shop_refunds rename to shop_refunds_hidden")
        conn.commit()
        try:
            with server_env(server):
                assert main(["run", "--target", "postgres", "--export-dir", str(published.exports)]) == 2
        finally:
            cur.execute("alter table raw.shop_refunds_hidden rename to shop_refunds")
            conn.commit()
    assert "error: check: PostgreSQL lacks raw.shop_refunds: load the raw tables" in capsys.readouterr().err


def test_run_on_postgres_fits_the_predictive_models(server: Server, published: Published) -> None:
    """dbt runs no Python on PostgreSQL: run fits them between the order-day summary and
    the rest of the build, so the published scores exist (the first, plain dbt build had
    none)."""
    with closing(server.connect()) as owner:
        assert rows(owner, "select as_of_date, bool_and(converged), count(*) from marts.predictive_model_params group by as_of_date") == [
            (NEW_AS_OF, True, 7)
        ]
        [(buyers, scored, unscored)] = rows(
            owner,
            "select count(*), count(p_alive), count(*) filter (where churn_risk = 'unscored') "
            "from marts.dim_customers where counted_orders > 0",
        )
    assert buyers > 100 and scored == buyers and unscored == 0
