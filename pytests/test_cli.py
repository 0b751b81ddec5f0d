"""The main command: the freshness gate, early errors, the summary (publishing itself:
test_publish.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from audience.cli import main
from audience.generate import generate
from audience.export import EXPORT_DIR_ENV
from audience.project import DATABASE_ENV, PUBLISHED_ENV

TODAY = dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture()
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "working.duckdb"
    monkeypatch.setenv(DATABASE_ENV, str(path))
    monkeypatch.setenv(PUBLISHED_ENV, str(tmp_path / "audience.duckdb"))
    monkeypatch.setenv(EXPORT_DIR_ENV, str(tmp_path / "exports"))
    return path


def test_stale_sources_are_refused_with_their_names_and_age(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate(database, profile="demo", as_of_date=TODAY - dt.timedelta(days=5))
    assert main(["run", "--no-history-seed"]) == 3
    err = capsys.readouterr().err
    assert "error: audit: [freshness] Refusing to publish marts" in err
    for table in ("raw.shop_orders", "raw.email_events", "raw.crm_accounts"):
        assert table in err
    assert " d " in err and "--override freshness" in err
    assert not (database.parent / "audience.duckdb").exists(), "nothing was published"
    assert not (database.parent / "exports").exists(), "nothing was exported"


def test_an_override_publishes_records_it_and_prints_the_summary(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate(database, profile="demo", as_of_date=TODAY - dt.timedelta(days=5))
    assert main(["run", "--no-history-seed", "--override", "freshness", "--as-of-date", (TODAY - dt.timedelta(days=5)).isoformat()]) == 0
    out = capsys.readouterr().out
    assert "publishing although the freshness audit failed (--override freshness)" in out
    with duckdb.connect(str(database.parent / "audience.duckdb"), read_only=True) as con:
        assert con.execute("select overridden_audits from marts.publish_log").fetchall() == [("freshness",)]
    assert "dq_rejected_rows" in out and "unidentifiable" in out
    assert "customers" in out and "buyers" in out and "emailable" in out
    for family in ("lifecycle", "email_engagement", "rfm", "behaviour", "crm_tag", "custom"):
        assert f"\n{family} " in out, family
    assert main(["summary"]) == 0
    full = capsys.readouterr().out
    assert "Rows per mart" in full, "the full summary"
    assert "Churn risk and predicted value of the next 365 days" in full and "bg_nbd on " in full
    with duckdb.connect(str(database.parent / "audience.duckdb"), read_only=True) as con:
        churn = con.execute(
            "select churn_risk, count(*), sum(clv_365d_usd) from marts.dim_customers "
            "where churn_risk is not null group by churn_risk"
        ).fetchall()
    lines = full.splitlines()
    for risk, buyers, value in churn:
        assert any(
            line.startswith(f"{risk} ") and f" {buyers:,} " in line and f"{float(value or 0):.1f}" in line for line in lines
        ), (risk, buyers, value)
    current = database.parent / "exports" / "current"
    assert f"to {current}" in out and (current / "manifest.json").is_file()
    assert (current / "lifecycle" / "active.csv").is_file() and (current / "lifecycle" / "active.parquet").is_file()


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


def test_regenerate_starts_the_demo_over_as_of_the_date_given(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second --regenerate over a built working database builds and passes its tests
    (nothing built from the old data is kept), and the data is as of --as-of-date."""
    as_of = TODAY - dt.timedelta(days=40)
    for seed in ("1", "2"):
        args = ["run", "--regenerate", "--profile", "S", "--seed", seed, "--as-of-date", as_of.isoformat()]
        assert main([*args, "--no-history-seed", "--override", "freshness"]) == 0, capsys.readouterr().err
    assert "replacing" in capsys.readouterr().out
    with duckdb.connect(str(database), read_only=True) as con:
        [(latest_order,)] = con.execute("select max(cast(ordered_at as date)) from raw.shop_orders").fetchall()
        [(dates,)] = con.execute("select count(distinct as_of_date) from marts.fct_segment_membership_history").fetchall()
    assert latest_order <= as_of and dates == 1
