"""Backfill: build the marts for every as-of date of a range, oldest first.

Staging does not depend on the as-of date, so it is built once; then, per date, the
intermediate models and marts run with that date. The models kept per date (membership
history, transitions, performance) replace that date's rows, so re-running a date
changes nothing. Tests run once at the end, on the last date.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from audience.project import run_dbt

PER_DATE_SELECTION = ["path:models/intermediate", "path:models/marts"]
# A first run on an empty history backfills these many days before its as-of date, so
# that forward outcomes have cohorts with mature 7- and 30-day windows from the start.
FIRST_HISTORY_DAYS_BEFORE = (35, 28, 21, 14, 7)


class BackfillError(RuntimeError):
    """A dbt step failed; the message says which date and which step."""


@dataclass(frozen=True)
class BackfillResult:
    """What a backfill did, with wall times in seconds."""

    dates: list[dt.date]
    staging_seconds: float
    date_seconds: list[float]
    test_seconds: float | None


def today_utc() -> dt.date:
    """Today in UTC, as dbt's run_started_at gives it to the models."""
    return dt.datetime.now(dt.UTC).date()


def dates_between(start: dt.date, end: dt.date, today: dt.date | None = None) -> list[dt.date]:
    """Every date from start to end, both included, validated as a whole before anything
    is built: a reversed range is a mistake, and so is one that ends after today (UTC),
    since a future as-of date would enter the history as if it had happened."""
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start}): swap the dates")
    today = today or today_utc()
    if end > today:
        raise ValueError(f"the range ends ({end}) after today ({today}, UTC): as-of dates cannot be in the future")
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]


def _dbt(args: list[str], what: str, dbt_args: Sequence[str]) -> None:
    result = run_dbt(["--quiet", *args, *dbt_args])
    if not result.success:
        detail = f": {result.exception}" if result.exception else " (see logs/dbt.log)"
        raise BackfillError(f"dbt failed while {what}{detail}")


def _vars(date: dt.date, extra_vars: dict[str, Any]) -> list[str]:
    return ["--vars", json.dumps({**extra_vars, "as_of_date": date.isoformat()}, default=str)]


def backfill(
    dates: list[dt.date],
    run_tests: bool = True,
    on_date: Callable[[dt.date, float], None] | None = None,
    dbt_args: Sequence[str] = (),
    extra_vars: dict[str, Any] | None = None,
) -> BackfillResult:
    """Build seeds and staging once, then intermediate and marts per date, then test.

    ``on_date`` is called after each date with its wall time (for a progress bar);
    ``dbt_args`` are added to every dbt call (e.g. ``--target-path``), ``extra_vars`` to
    every call's vars (e.g. where the sources are).
    """
    given = extra_vars or {}
    if not dates:
        raise ValueError("no dates to backfill")
    dates_between(min(dates), max(dates))  # the whole range is valid before anything is built
    started = time.perf_counter()
    _dbt(["seed"], "loading seeds", dbt_args)
    _dbt(
        ["run", "--select", "path:models/staging", *(["--vars", json.dumps(given)] if given else [])],
        "building staging",
        dbt_args,
    )
    staging_seconds = time.perf_counter() - started

    date_seconds = []
    for date in sorted(dates):
        began = time.perf_counter()
        _dbt(["run", "--select", *PER_DATE_SELECTION, *_vars(date, given)], f"building {date}", dbt_args)
        date_seconds.append(time.perf_counter() - began)
        if on_date:
            on_date(date, date_seconds[-1])

    test_seconds = None
    if run_tests:
        began = time.perf_counter()
        _dbt(["test", *_vars(max(dates), given)], f"testing the marts of {max(dates)}", dbt_args)
        test_seconds = time.perf_counter() - began
    return BackfillResult(sorted(dates), staging_seconds, date_seconds, test_seconds)


def _has_history(database: Path) -> bool:
    """True when the database holds membership history rows."""
    if not database.exists():
        return False
    with duckdb.connect(str(database), read_only=True) as con:
        [(tables,)] = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'fct_segment_membership_history'"
        ).fetchall()
        return bool(tables) and bool(
            con.execute("select 1 from marts.fct_segment_membership_history limit 1").fetchall()
        )


def seed_history(database: Path, as_of: dt.date, extra_vars: dict[str, Any] | None = None) -> list[dt.date]:
    """When ``database`` has no membership history yet, backfill the dates
    FIRST_HISTORY_DAYS_BEFORE days before ``as_of`` (without tests: the run that follows
    tests its own build; with the run's ``extra_vars``) and return them; otherwise do
    nothing and return []."""
    if _has_history(database):
        return []
    dates = [as_of - dt.timedelta(days=days) for days in FIRST_HISTORY_DAYS_BEFORE]
    backfill(dates, run_tests=False, extra_vars=extra_vars)
    return dates
