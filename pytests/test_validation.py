"""Configuration is refused before anything is built (SPEC sections 3 and 5): a numeric
var out of its range or not a number, an as-of date after today, a backfill range
ending after today. Every message names what was wrong and what is allowed."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from audience.backfill import dates_between
from audience.cli import main
from audience.project import DATABASE_ENV
from conftest import dbt_in

FUTURE = "2062-06-30"


def parse(tmp_path: Path, variables: dict[str, Any]) -> Any:
    """``dbt parse`` with these vars (every model renders, so every var read is checked)."""
    return dbt_in(tmp_path, tmp_path / "audience.duckdb", ["parse", "--vars", json.dumps(variables)])


# (var, bad value, what the message must say about the allowed range)
BAD_VARS = [
    ("holdout_pct", -5, "from 0 to 100"),
    ("holdout_pct", 101, "from 0 to 100"),
    ("holdout_pct", "10) or (1=1", "from 0 to 100"),
    ("holdout_pct", 12.5, "whole number"),
    ("global_holdout_pct", 101, "from 0 to 100"),
    ("max_publish_drop_share", 1.5, "from 0 to 1"),
    ("bargain_min_discounted_share", -0.1, "from 0 to 1"),
    ("lifecycle_active_days", 0, ">= 1"),
    ("engagement_window_days", "90 or true", ">= 1"),
    ("vip_min_orders", True, ">= 1"),
    ("enterprise_min_employees", 1000.5, "whole number"),
    ("rfm_window_days", 0, "null (all history) or a whole number of days >= 1"),
    ("min_segment_size", -1, ">= 0"),
    ("max_audience_overlap_share", 2, "from 0 to 1"),
    ("max_daily_size_change_share", -0.5, "a number >= 0"),
    ("incremental_lookback_days", -1, "whole number of days >= 0"),
]


@pytest.mark.parametrize(("name", "value", "allowed"), BAD_VARS, ids=[f"{n}={v}" for n, v, _ in BAD_VARS])
def test_a_bad_numeric_var_is_refused_naming_it(tmp_path: Path, name: str, value: Any, allowed: str) -> None:
    result = parse(tmp_path, {name: value})
    assert not result.success, f"{name}={value!r} was accepted"
    message = str(result.exception)
    assert f"var {name} must be" in message
    assert allowed in message
    assert f"got '{value}'" in message


def test_numeric_vars_within_range_parse(tmp_path: Path) -> None:
    variables = {"holdout_pct": 0, "global_holdout_pct": 100, "max_publish_drop_share": 1, "rfm_window_days": 365}
    result = parse(tmp_path, variables)
    assert result.success, result.exception


NUMERIC_VARS = [
    "holdout_pct", "global_holdout_pct", "max_publish_drop_share", "rfm_window_days",
    "lifecycle_new_days", "lifecycle_active_days", "lifecycle_at_risk_days", "lifecycle_lapsed_days",
    "lifecycle_reactivation_gap_days", "engagement_window_days", "new_subscriber_days",
    "enterprise_min_employees", "mid_market_min_employees", "vip_min_orders", "vip_window_days",
    "repeat_buyer_min_orders", "cart_abandon_days", "bargain_min_orders", "bargain_min_discounted_share",
    "max_audience_overlap_share", "min_segment_size", "max_daily_size_change_share", "drift_min_members",
    "incremental_lookback_days",
]  # fmt: skip


def test_no_model_or_macro_reads_a_numeric_var_directly() -> None:
    """Every numeric var goes through number_var (macros/numbers.sql): no var('holdout_pct') elsewhere."""
    project = Path(__file__).resolve().parent.parent
    offenders = []
    for folder in ("models", "macros", "tests", "analyses"):
        for path in (project / folder).rglob("*"):
            if path.suffix not in (".sql", ".yml") or path == project / "macros" / "numbers.sql":
                continue
            text = path.read_text()
            offenders += [
                f"{path.name}: {name}"
                for name in NUMERIC_VARS
                if re.search(rf"(?<![\w.])var\(\s*['\"]{name}['\"]", text)
            ]
    assert offenders == []


def test_a_future_as_of_date_is_refused_naming_today(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    result = parse(tmp_path, {"as_of_date": FUTURE})
    assert not result.success
    message = str(result.exception)
    assert "var as_of_date" in message and FUTURE in message and today in message


def test_today_is_accepted_as_as_of_date(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    result = parse(tmp_path, {"as_of_date": today})
    assert result.success, result.exception


def test_a_backfill_range_ending_after_today_is_refused_as_a_whole() -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    with pytest.raises(ValueError, match=f"ends \\({FUTURE}\\) after today \\({today}"):
        dates_between(dt.date(2026, 6, 1), dt.date.fromisoformat(FUTURE))
    assert dates_between(today - dt.timedelta(days=1), today) == [today - dt.timedelta(days=1), today]


def test_the_backfill_command_refuses_a_future_range_before_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "audience.duckdb"
    monkeypatch.setenv(DATABASE_ENV, str(database))
    assert main(["backfill", "--start", "2026-06-01", "--end", FUTURE]) == 2
    err = capsys.readouterr().err
    assert f"ends ({FUTURE}) after today" in err
    assert not database.exists(), "nothing was built"
