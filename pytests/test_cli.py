"""The main command: the freshness gate, early errors, the summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from audience.cli import main
from audience.generate import generate
from audience.export import EXPORT_DIR_ENV
from audience.project import DATABASE_ENV

TODAY = dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture()
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audience.duckdb"
    monkeypatch.setenv(DATABASE_ENV, str(path))
    monkeypatch.setenv(EXPORT_DIR_ENV, str(tmp_path / "exports"))
    return path


def test_stale_sources_are_refused_with_their_names_and_age(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate(database, profile="demo", as_of_date=TODAY - dt.timedelta(days=5))
    assert main(["run"]) == 3
    err = capsys.readouterr().err
    assert "Refusing to publish marts" in err
    for table in ("raw.shop_orders", "raw.email_events", "raw.crm_accounts"):
        assert table in err
    assert " d " in err and "--allow-stale" in err
    with duckdb.connect(str(database), read_only=True) as con:
        schemas = {name for (name,) in con.execute("select schema_name from information_schema.schemata").fetchall()}
    assert "marts" not in schemas, "nothing was published"


def test_allow_stale_publishes_and_prints_the_summary(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate(database, profile="demo", as_of_date=TODAY - dt.timedelta(days=5))
    assert main(["run", "--allow-stale", "--as-of-date", (TODAY - dt.timedelta(days=5)).isoformat()]) == 0
    out = capsys.readouterr().out
    assert "Publishing anyway" in out
    assert "Rows per mart" in out and "dq_rejected_rows" in out and "unidentifiable" in out
    assert "customers" in out and "buyers" in out and "emailable" in out
    for family in ("lifecycle", "email_engagement", "rfm", "behaviour", "crm_tag", "custom"):
        assert f"\n{family} " in out, family
    exports = database.parent / "exports"
    assert f"to {exports}" in out and (exports / "manifest.json").is_file()
    assert (exports / "lifecycle" / "active.csv").is_file() and (exports / "lifecycle" / "active.parquet").is_file()


def test_a_missing_raw_table_fails_early(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate(database, profile="demo", as_of_date=TODAY)
    with duckdb.connect(str(database)) as con:
        con.execute("drop table raw.shop_refunds")
    assert main(["run"]) == 2
    assert "shop_refunds" in capsys.readouterr().err


def test_a_bad_date_is_refused(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--as-of-date", "30/06/2026"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_a_reversed_backfill_range_is_refused(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backfill", "--start", "2026-06-30", "--end", "2026-06-01"]) == 2
    assert "ends (2026-06-01) before it starts (2026-06-30)" in capsys.readouterr().err


def test_a_backfill_without_raw_data_fails_early(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backfill", "--start", "2026-06-01", "--end", "2026-06-02"]) == 2
    assert "no raw tables" in capsys.readouterr().err


def test_appending_a_day_that_is_not_after_the_data_is_refused(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate(database, profile="S", as_of_date=dt.date(2026, 6, 30))
    assert main(["generate", "--profile", "S", "--append-day", "2026-06-29"]) == 2
    assert "is not after it" in capsys.readouterr().err
    assert main(["generate", "--profile", "S", "--append-day", "2026-06-30"]) == 0
    assert "appended" in capsys.readouterr().out
