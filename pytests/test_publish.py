"""Write → audit → publish on DuckDB (SPEC section 10): what readers and sending tools
see before, during and after a run, and after runs that fail."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from audience import cli
from audience.cli import main
from audience.export import CURRENT
from audience.raw_schema import create_raw_tables
from conftest import TODAY, Site

@pytest.fixture()
def site(published_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    """A copy of the published site, in use by the command line."""
    return published_site.copy(tmp_path / "site").use(monkeypatch)


def test_a_run_publishes_the_marts_with_their_log_and_exports(published_site: Site) -> None:
    site = published_site
    working = {name for (name,) in site.rows("select table_name from information_schema.tables where table_schema = 'marts'", site.working)}
    published = dict(site.rows("select table_name, table_type from information_schema.tables where table_schema = 'marts'"))
    assert set(published) == working | {"publish_log"}
    assert set(published.values()) == {"BASE TABLE"}, "views are published as tables"
    for name in working:
        assert site.rows(f"select count(*) from marts.{name}") == site.rows(f"select count(*) from marts.{name}", site.working), name

    [(build_id, as_of, started, published_at, models, passed, warned, overridden, commit)] = site.rows("select * from marts.publish_log")
    assert as_of == TODAY and started <= published_at and overridden == ""
    # The first run backfilled weekly dates into the empty history: outcomes have cohorts.
    assert site.rows("select count(distinct cohort_date), count(*) filter (where is_mature) > 0 from marts.fct_segment_outcomes") == [(6, True)]
    assert models > 40 and passed > 200 and warned >= 0
    assert commit is None or len(commit) == 40

    assert stat.S_IMODE(site.published.stat().st_mode) == 0o600
    current = site.exports / CURRENT
    manifest = json.loads((current / "manifest.json").read_text())
    assert manifest["build_id"] == build_id and manifest["as_of_date"] == TODAY.isoformat()
    for path in [site.exports, *site.exports.rglob("*")]:
        if not path.is_symlink():
            assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path

    expected = site.rows("select segment_family, segment, count(*) from marts.fct_segment_exports group by all order by all")
    assert [(s["segment_family"], s["segment"], s["rows"]) for s in manifest["segments"]] == expected
    segment_files = {
        kind: "[" + ", ".join(f"'{current / name}'" for s in manifest["segments"] for name in s["files"] if name.endswith(kind)) + "]"
        for kind in (".csv", ".parquet")
    }
    list_files = [name for exported in manifest["lists"] for name in exported["files"]]
    assert {name.split("/")[0] for name in list_files} == {"lists"} and list_files
    with duckdb.connect(str(site.published), read_only=True) as con:
        csv_rows = con.execute(f"select * from read_csv({segment_files['.csv']}) order by all").fetchall()
        parquet_rows = con.execute(f"select * from read_parquet({segment_files['.parquet']}) order by all").fetchall()
        wrong = con.execute(
            f"select count(*) from read_parquet({segment_files['.parquet']}) as exported "
            "left join marts.fct_segment_holdouts as h using (customer_id, segment_family, segment) "
            "left join marts.dim_customers as c using (customer_id) "
            "where h.holdout_group is distinct from 'treatment' or c.is_suppressed or not c.is_emailable "
            "or c.is_global_control"
        ).fetchall()[0][0]
        listed = con.execute(
            f"select list_name, customer_id, is_sendable from read_parquet('{current}/lists/*.parquet') as exported "
            "left join marts.fct_priority_list_members as m using (as_of_date, list_name, customer_id, segment_family, segment)"
        ).fetchall()
        sendable = con.execute(
            "select list_name, customer_id, true from marts.fct_priority_list_members where is_sendable and as_of_date = ?",
            [TODAY],
        ).fetchall()
    assert csv_rows == parquet_rows and len(csv_rows) == sum(count for *_, count in expected) > 0
    assert wrong == 0
    assert sorted(listed) == sorted(sendable) and len(listed) == sum(exported["rows"] for exported in manifest["lists"]) > 0


READER = textwrap.dedent(
    """
    import json, os, sys, time, duckdb
    published, kind, stop, out = sys.argv[1:5]
    read = ("select (select max(build_id) from marts.publish_log), (select count(*) from marts.publish_log), "
            "(select count(*) from marts.dim_customers)")
    held = duckdb.connect(published, read_only=True) if kind == "held" else None
    reads = []
    deadline = time.time() + 600
    while time.time() < deadline and not (len(reads) > 2 and os.path.exists(stop)):
        try:
            if held is not None:
                reads.append([held.execute(read).fetchall()[0], None])
            else:  # one process keeps one instance per file: a fresh open needs no other open
                with duckdb.connect(published, read_only=True) as con:
                    reads.append([con.execute(read).fetchall()[0], None])
        except Exception as error:
            reads.append([None, str(error)])
        time.sleep(0.02)
    json.dump(reads, open(out, "w"))
    """
)


def test_a_reader_holding_the_published_file_reads_one_build_throughout_a_run(site: Site, tmp_path: Path) -> None:
    [(old_build,)] = site.rows("select build_id from marts.publish_log")
    stop = tmp_path / "stop"
    readers = {
        kind: subprocess.Popen([sys.executable, "-c", READER, str(site.published), kind, str(stop), str(tmp_path / f"{kind}.json")])
        for kind in ("held", "fresh")
    }
    try:
        time.sleep(1)
        assert main(["run"]) == 0
        time.sleep(0.5)
    finally:
        stop.touch()
        assert all(reader.wait(timeout=120) == 0 for reader in readers.values())
    held, fresh = (json.loads((tmp_path / f"{kind}.json").read_text()) for kind in ("held", "fresh"))
    failed = [error for _, error in held + fresh if error]
    assert not failed, failed[:3]
    [(new_build,)] = site.rows("select max(build_id) from marts.publish_log")
    assert len(held) > 20 and all(row[:2] == [old_build, 1] for row, _ in held), "the open file stays the old build"
    builds = [row[0] for row, _ in fresh]
    assert builds[0] == old_build and builds[-1] == new_build != old_build
    switched = builds.index(new_build)
    assert set(builds[:switched]) == {old_build} and set(builds[switched:]) == {new_build}, "never back, never mixed"
    assert all(row[1] == (1 if row[0] == old_build else 2) for row, _ in fresh), "each read sees one whole publish log"


def broken_custom_audience() -> list[str]:
    return ["--vars", json.dumps({"custom_audiences": [{"name": "broken", "description": "Fails at run time.", "predicate": "cast(email as integer) > 0"}]})]


@pytest.mark.parametrize(
    ("break_it", "code", "message"),
    [
        pytest.param("drop_column", 2, "raw.shop_orders.status: column missing (expected VARCHAR)", id="raw-column-dropped"),
        pytest.param("retype_column", 2, "raw.shop_orders.total_amount: expected DECIMAL(18,2), found DOUBLE", id="raw-column-retyped"),
        pytest.param("runtime_error", 1, "error: build: dbt build failed", id="model-fails-at-run-time"),
        pytest.param("collapse", 3, "[collapse] customers fell from", id="population-collapses"),
    ],
)
def test_a_failing_run_changes_no_byte_readers_or_senders_see(
    site: Site, break_it: str, code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = site.snapshot()
    args = ["run"]
    if break_it in ("drop_column", "retype_column"):
        with duckdb.connect(str(site.working)) as con:
            if break_it == "drop_column":
                con.execute("alter table raw.shop_orders drop column status")
            else:
                con.execute("alter table raw.shop_orders alter total_amount type double")
    elif break_it == "runtime_error":
        args += broken_custom_audience()
    else:  # two and a half years back, the shop had a fraction of its customers
        args += ["--as-of-date", (TODAY - dt.timedelta(days=900)).isoformat(), "--override", "as_of_date"]
    assert main(args) == code
    assert message in capsys.readouterr().err
    assert site.snapshot() == before
    if break_it == "collapse":
        assert main([*args, "--override", "collapse"]) == 0
        assert site.rows("select overridden_audits from marts.publish_log order by published_at") == [("",), ("as_of_date,collapse",)]


def test_a_build_without_customers_is_not_published(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    before = site.snapshot()
    site.working.unlink()  # a new working database whose raw tables are empty
    with duckdb.connect(str(site.working)) as con:
        create_raw_tables(con)
    assert main(["run", "--no-history-seed", "--override", "freshness"]) == 3
    err = capsys.readouterr().err
    assert "[collapse] the build has no customers" in err
    assert site.snapshot() == before
    assert main(["run"]) == 3
    assert "raw.shop_orders: no rows landed before the check (error)" in capsys.readouterr().err, "an empty table is not 'loaded 739948 d ago'"


def test_an_earlier_date_is_a_backfill_that_publishes_nothing(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    before = site.snapshot()
    earlier = TODAY - dt.timedelta(days=3)
    assert main(["run", "--as-of-date", earlier.isoformat()]) == 0
    assert f"the as-of date {earlier} is earlier than the published {TODAY}" in capsys.readouterr().out
    assert site.snapshot() == before
    history = {date for (date,) in site.rows("select distinct as_of_date from marts.fct_segment_membership_history", site.working)}
    assert {earlier, TODAY} <= history, "the earlier date's history is written in the working database"

    assert main(["backfill", "--start", (earlier - dt.timedelta(days=1)).isoformat(), "--end", earlier.isoformat()]) == 0
    assert site.snapshot() == before, "a backfill never publishes"

    assert main(["run", "--as-of-date", earlier.isoformat(), "--override", "as_of_date"]) == 0
    assert site.rows("select as_of_date, overridden_audits from marts.publish_log order by published_at") == [(TODAY, ""), (earlier, "as_of_date")]
    assert json.loads((site.exports / CURRENT / "manifest.json").read_text())["as_of_date"] == earlier.isoformat()


def test_what_a_killed_run_left_is_removed_and_a_cut_short_export_redone(site: Site) -> None:
    [(build_id,)] = site.rows("select build_id from marts.publish_log")
    scratch_db = site.published.with_name(f".{site.published.name}.20260101T000000Z-abcdef.tmp")
    scratch_db.write_bytes(b"half a database")
    scratch_export = site.exports / ".scratch-0123"
    (scratch_export / "lifecycle").mkdir(parents=True)
    (scratch_export / "lifecycle" / "new.csv").write_text("email\nsomeone@example.com\n")
    (site.exports / "builds" / "older").mkdir()
    (site.exports / "builds" / "older" / "manifest.json").write_text(json.dumps({"build_id": "older"}))
    (site.exports / CURRENT).unlink()
    os.symlink("builds/older", site.exports / CURRENT)  # killed after the file swap, before the link swap

    cli._prepare(site.published, site.exports)
    assert not scratch_db.exists() and not scratch_export.exists()
    assert json.loads((site.exports / CURRENT / "manifest.json").read_text())["build_id"] == build_id


def test_export_re_exports_the_published_build_and_refuses_without_one(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [(build_id,)] = site.rows("select build_id from marts.publish_log")
    first = os.readlink(site.exports / CURRENT)
    assert main(["export"]) == 0
    assert f"exported build {build_id}" in capsys.readouterr().out
    second = os.readlink(site.exports / CURRENT)
    assert second != first and json.loads((site.exports / CURRENT / "manifest.json").read_text())["build_id"] == build_id
    assert (site.exports / first).is_dir(), "the folder a reader may still be in is kept"

    Site(tmp_path / "empty").use(monkeypatch)
    assert main(["export"]) == 2
    assert "nothing has been published" in capsys.readouterr().err
    assert main(["summary"]) == 2


def hold(database: Path, read_only: bool) -> subprocess.Popen[str]:
    """Another process that opens ``database`` and keeps it open."""
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(database)!r}, read_only={read_only}); print('open', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    return holder


@pytest.mark.parametrize(
    ("held", "read_only", "commands"),
    [
        pytest.param("working", True, [["run"], ["backfill", "--start", "2026-06-01", "--end", "2026-06-02"]], id="working-held-by-a-reader"),
        pytest.param("published", False, [["run"], ["export"]], id="published-held-by-a-writer"),
    ],
)
def test_a_process_holding_a_database_gets_one_line(
    site: Site, held: str, read_only: bool, commands: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    before = site.snapshot()
    holder = hold(site.working if held == "working" else site.published, read_only)
    try:
        for command in commands:
            assert main(command) == 4, command
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and f"the {held} database" in err and f"is held open by PID {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait()
    assert site.snapshot() == before
