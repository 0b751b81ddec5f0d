"""Segment operations on generated S-profile data backfilled over three dates: history,
transitions, performance, overlap and the warn-level checks (exports: test_publish.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from audience.backfill import backfill
from audience.generate import generate
from audience.project import DATABASE_ENV, exclusive_families, project_vars
from conftest import Db, dbt_in

DATES = [dt.date(2026, 6, 27), dt.date(2026, 6, 28), dt.date(2026, 6, 29)]
# The family registry (var segment_families) says which families are exclusive.
EXCLUSIVE = tuple(exclusive_families())
NON_EXCLUSIVE = tuple(name for name, family in project_vars()["segment_families"].items() if not family["exclusive"])
KEPT_PER_DATE = {
    "fct_segment_membership_history": "as_of_date, customer_id, segment_family, segment",
    "fct_segment_transitions": "as_of_date, customer_id, segment_family",
    "fct_segment_performance": "as_of_date, segment_family, segment",
}


@contextmanager
def database_env(database: Path) -> Iterator[None]:
    previous = os.environ.get(DATABASE_ENV)
    os.environ[DATABASE_ENV] = str(database)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(DATABASE_ENV, None)
        else:
            os.environ[DATABASE_ENV] = previous


def run_backfill(workdir: Path, dates: list[dt.date], run_tests: bool = False) -> None:
    with database_env(workdir / "audience.duckdb"):
        backfill(
            dates,
            run_tests=run_tests,
            dbt_args=["--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")],
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated data as of 2026-06-30, backfilled for 27-29 June, tests included."""
    workdir = tmp_path_factory.mktemp("operations")
    generate(workdir / "audience.duckdb", profile="S", as_of_date=dt.date(2026, 6, 30), seed=11)
    run_backfill(workdir, DATES, run_tests=True)
    return workdir


@pytest.fixture()
def copy(built: Path, tmp_path: Path) -> Path:
    """A workdir with its own copy of the built database, free to change."""
    shutil.copy(built / "audience.duckdb", tmp_path / "audience.duckdb")
    return tmp_path


def db(workdir: Path) -> Db:
    return Db(workdir / "audience.duckdb")


def kept_per_date(workdir: Path) -> dict[str, list[tuple]]:
    return {
        model: db(workdir).rows(f"select * from marts.{model} order by {order}")
        for model, order in KEPT_PER_DATE.items()
    }


def test_history_keeps_each_date_with_that_dates_memberships_and_holdouts(built: Path) -> None:
    dates = [date for (date,) in db(built).rows("select distinct as_of_date from marts.fct_segment_membership_history order by 1")]
    assert dates == DATES
    last = db(built).rows(
        "select m.customer_id, m.segment_family, m.segment, h.holdout_group, m.is_emailable "
        "from marts.fct_segment_memberships m join marts.fct_segment_holdouts h using (customer_id, segment_family, segment) "
        "order by all"
    )
    kept = db(built).rows(
        "select customer_id, segment_family, segment, holdout_group, is_emailable "
        "from marts.fct_segment_membership_history where as_of_date = ? order by all",
        [DATES[-1]],
    )
    assert len(last) > 1000 and kept == last


def test_transitions_are_the_moves_between_consecutive_dates(built: Path) -> None:
    segments: dict[dt.date, dict[tuple[str, str], str]] = {date: {} for date in DATES}
    for date, customer, family, segment in db(built).rows(
        "select as_of_date, customer_id, segment_family, segment from marts.fct_segment_membership_history"
    ):
        if family in EXCLUSIVE:
            segments[date][(customer, family)] = segment
    expected = set()
    for previous, date in itertools.pairwise(DATES):
        for key in segments[previous].keys() | segments[date].keys():
            before, after = segments[previous].get(key), segments[date].get(key)
            if before != after:
                expected.add((date, previous, *key, before, after))
    actual = set(db(built).rows("select as_of_date, previous_date, customer_id, segment_family, from_segment, to_segment from marts.fct_segment_transitions"))
    assert expected, "three days of generated data move somebody"
    assert any(row[4] is None for row in expected), "somebody enters a population"
    assert actual == expected


def test_rerunning_a_date_changes_nothing(copy: Path) -> None:
    before = kept_per_date(copy)
    run_backfill(copy, [DATES[1]])
    assert kept_per_date(copy) == before


def test_a_date_filled_in_later_gives_the_same_history(built: Path, copy: Path) -> None:
    with duckdb.connect(str(copy / "audience.duckdb")) as con:
        for model in KEPT_PER_DATE:
            con.execute(f"delete from marts.{model} where as_of_date >= ?", [DATES[1]])
    run_backfill(copy, [DATES[2]])
    assert db(copy).rows("select distinct previous_date from marts.fct_segment_transitions where as_of_date = ?", [DATES[2]]) == [(DATES[0],)]
    run_backfill(copy, [DATES[1]])
    assert kept_per_date(copy) == kept_per_date(built)


def rate(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def test_performance_matches_a_recount_from_the_fact_marts(built: Path) -> None:
    as_of = DATES[-1]
    window_90 = as_of - dt.timedelta(days=89)
    window_30 = as_of - dt.timedelta(days=29)
    members: dict[tuple[str, str], set[str]] = {}
    for family, segment, customer in db(built).rows("select segment_family, segment, customer_id from marts.fct_segment_memberships"):
        members.setdefault((family, segment), set()).add(customer)
    customers = db(built).rows("select count(*) from marts.dim_customers")[0][0]
    buyers = {customer for (customer,) in db(built).rows("select customer_id from marts.dim_customers where counted_orders > 0")}
    orders = db(built).rows(
        "select customer_id, order_date, net_revenue_usd from marts.fct_orders where is_counted and order_date >= ?", [window_90]
    )
    events = db(built).rows("select customer_id, campaign_id, event_type, event_date from marts.fct_email_events")
    sent = {(c, campaign) for c, campaign, kind, day in events if kind == "send" and day >= window_90}
    opened = {(c, campaign) for c, campaign, kind, _ in events if kind == "open"} & sent
    clicked = {(c, campaign) for c, campaign, kind, _ in events if kind == "click"} & sent
    unsubscribes = [c for c, _, kind, day in events if kind == "unsubscribe" and day >= window_90]

    expected = {}
    for (family, segment), who in members.items():
        their_orders = [(day, revenue) for c, day, revenue in orders if c in who]
        revenue = sum((r for _, r in their_orders), Decimal("0.00"))
        sends = sum(1 for c, _ in sent if c in who)
        expected[(family, segment)] = (
            len(who),
            rate(len(who), customers),
            sum(1 for c in who if c in buyers),
            len(their_orders),
            revenue,
            (revenue / len(their_orders)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if their_orders else None,
            sends,
            rate(sum(1 for c, _ in opened if c in who), sends),
            rate(sum(1 for c, _ in clicked if c in who), sends),
            rate(sum(1 for c in unsubscribes if c in who), sends),
            rate(len({c for c, day, _ in orders if c in who and day >= window_30}), len(who)),
        )
    actual = {
        (row[0], row[1]): tuple(row[2:])
        for row in db(built).rows(
            "select segment_family, segment, members, share_of_customers, buyers, orders_90d, net_revenue_90d_usd, "
            "aov_90d_usd, sends_90d, unique_open_rate_90d, unique_click_rate_90d, unsubscribe_rate_90d, "
            "conversion_rate_30d from marts.fct_segment_performance where as_of_date = ?",
            [as_of],
        )
    }
    assert sum(values[6] for values in expected.values()) > 0, "the fixture has sends in the window"
    assert actual == expected


def test_overlap_covers_every_pair_of_non_exclusive_segments(built: Path) -> None:
    members: dict[tuple[str, str], set[str]] = {}
    for family, segment, customer in db(built).rows("select segment_family, segment, customer_id from marts.fct_segment_memberships"):
        if family in NON_EXCLUSIVE:
            members.setdefault((family, segment), set()).add(customer)
    expected = {}
    for a, b in itertools.combinations(sorted(members), 2):
        both = len(members[a] & members[b])
        union = len(members[a] | members[b])
        expected[(*a, *b)] = (
            len(members[a]),
            len(members[b]),
            both,
            rate(both, union),
            rate(both, min(len(members[a]), len(members[b]))),
        )
    actual = {
        tuple(row[:4]): tuple(row[4:])
        for row in db(built).rows(
            "select segment_family_a, segment_a, segment_family_b, segment_b, members_a, members_b, members_both, "
            "jaccard, overlap_share_of_smaller from marts.fct_segment_overlap"
        )
    }
    assert any(values[2] == 0 for values in expected.values()) and any(values[2] > 0 for values in expected.values())
    assert actual == expected


def warn_test_failures(workdir: Path, variables: dict) -> dict[str, tuple[str, int]]:
    """Status and failure count of each warn-level segment check under ``variables``."""
    result = dbt_in(
        workdir,
        workdir / "audience.duckdb",
        ["test", "--select", "fct_segment_overlap fct_segment_performance", "--vars", json.dumps({"as_of_date": DATES[-1].isoformat(), **variables})],
    )
    assert result.success, result.exception
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    wanted = ("audiences_stay_distinct", "segments_not_below", "segment_size_drift")
    return {
        name: (item["status"], item["failures"])
        for item in results
        for name in wanted
        if item["unique_id"].split(".")[2].startswith(name)
    }


def test_warn_checks_fire_past_their_thresholds_and_stay_quiet_within(copy: Path) -> None:
    overlapping = db(copy).rows(
        "select segment_family_a || '.' || segment_a, segment_family_b || '.' || segment_b from marts.fct_segment_overlap "
        "where overlap_share_of_smaller >= 0.5 order by members_both desc limit 1"
    )[0]
    disjoint = db(copy).rows(
        "select segment_family_a || '.' || segment_a, segment_family_b || '.' || segment_b from marts.fct_segment_overlap "
        "where members_both = 0 limit 1"
    )[0]
    strict = warn_test_failures(
        copy,
        {"distinct_audience_pairs": [list(overlapping)], "min_segment_size": 10**9, "max_daily_size_change_share": 0, "drift_min_members": 0},
    )
    assert {name: status for name, (status, _) in strict.items()} == dict.fromkeys(strict, "warn")
    assert len(strict) == 3 and all(failures > 0 for _, failures in strict.values())
    lenient = warn_test_failures(
        copy,
        {"distinct_audience_pairs": [list(disjoint)], "min_segment_size": 0, "max_daily_size_change_share": 100},
    )
    assert lenient == dict.fromkeys(strict, ("pass", 0))


def test_a_distinct_pair_naming_an_exclusive_family_fails_early_with_its_name(copy: Path) -> None:
    result = dbt_in(
        copy,
        copy / "audience.duckdb",
        ["test", "--select", "fct_segment_overlap", "--vars", json.dumps({"as_of_date": DATES[-1].isoformat(), "distinct_audience_pairs": [["lifecycle.new", "behaviour.vip"]]})],
    )
    assert not result.success
    assert "'lifecycle.new' must be 'family.segment' with family one of behaviour" in str(result.exception)


@pytest.mark.parametrize(
    "planted",
    [
        "select h.as_of_date, h.segment_family, h.segment, h.customer_id, c.email, 'treatment' "
        "from marts.fct_segment_holdouts h join marts.dim_customers c using (customer_id) "
        "where h.holdout_group = 'control' and c.is_emailable limit 1",
        "select h.as_of_date, h.segment_family, h.segment, h.customer_id, c.email, 'treatment' "
        "from marts.fct_segment_holdouts h join marts.dim_customers c using (customer_id) "
        "where h.holdout_group = 'treatment' and c.is_global_control and c.is_emailable limit 1",
    ],
    ids=["control", "global_control"],
)
def test_the_export_check_fails_on_a_held_out_member(copy: Path, planted: str) -> None:
    with duckdb.connect(str(copy / "audience.duckdb")) as con:
        con.execute(f"insert into marts.fct_segment_exports {planted}")
        assert con.execute("select count(*) from marts.fct_segment_exports").fetchall()[0][0] > 0
    result = dbt_in(copy, copy / "audience.duckdb", ["test", "--select", "fct_segment_exports", "--vars", json.dumps({"as_of_date": DATES[-1].isoformat()})])
    assert not result.success
    failed = [item for item in json.loads((copy / "target" / "run_results.json").read_text())["results"] if item["status"] == "fail"]
    assert len(failed) == 1 and "exports_only_sendable" in failed[0]["unique_id"] and failed[0]["failures"] == 1


def test_exports_are_exactly_the_sendable_rows_of_the_date(built: Path) -> None:
    history = db(built).rows(
        "select h.segment_family, h.segment, h.customer_id, h.holdout_group, h.is_global_control, h.is_emailable, "
        "h.is_sendable, c.is_suppressed from marts.fct_segment_membership_history h "
        "join marts.dim_customers c using (customer_id) where h.as_of_date = ?",
        [DATES[-1]],
    )
    expected = set()
    for family, segment, cid, group, global_control, emailable, sendable, suppressed in history:
        bucket = int(hashlib.md5(f"global:{cid}".encode()).hexdigest()[:8], 16) % 100
        assert global_control == (bucket < 5)
        assert sendable == (emailable and group == "treatment" and not global_control)
        assert not (suppressed and sendable)
        if sendable:
            expected.add((family, segment, cid))
    assert any(row[4] and row[5] and row[3] == "treatment" for row in history), "a sendable-but-for-global-control row exists"
    exported = set(db(built).rows("select segment_family, segment, customer_id from marts.fct_segment_exports"))
    assert exported == expected and len(expected) > 100
