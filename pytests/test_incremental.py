"""Incremental runs equal --full-refresh (issue 5): generated S data is built as of one
date; then a day lands (generate_next_day) with hand-made rows on top (a late
re-delivery that now wins, updated orders, a rejected latest version, a new refund, a
shop customer whose email breaks, one whose email is fixed, null keys), and is built
incrementally as of the next date. A copy of that database rebuilt with --full-refresh
must hold the same rows in every model (history models keep their dates: they are never
fully refreshed)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from audience.bench import compare_builds
from audience.generate import generate, generate_next_day
from audience.raw_schema import RAW_TABLES
from conftest import Db, Rows, dbt_in, insert_raw, ts

AS_OF = dt.date(2026, 6, 30)
NEXT = AS_OF + dt.timedelta(days=1)
SEED = 42
LANDED = ts("2026-06-30 18:00")  # during the appended day


def build(workdir: Path, database: Path, as_of: dt.date, *extra: str) -> None:
    result = dbt_in(workdir, database, ["build", *extra, "--vars", json.dumps({"as_of_date": as_of.isoformat()})])
    assert result.success, f"dbt build {' '.join(extra)} failed: {result.exception or 'see ' + str(workdir)}"


# Two shop customers whose order, checkout and refund rely on their email (their own is
# null): cx-inc's email is valid in the first run and breaks in the second; cx-fix's is
# invalid in the first run and fixed in the second. No order, checkout or refund row of
# theirs lands with the second run.
FIRST_RUN_ROWS = {
    "shop_customers": [
        {"customer_id": "cx-inc", "email": "Inc.Customer@Example.com", "created_at": ts("2026-01-01 09:00"),
         "updated_at": ts("2026-01-01 09:00"), "_loaded_at": ts("2026-01-01 10:00")},
        {"customer_id": "cx-fix", "email": "fix.customer at example.com", "created_at": ts("2026-01-01 09:00"),
         "updated_at": ts("2026-01-01 09:00"), "_loaded_at": ts("2026-01-01 10:00")},
    ],
    "shop_orders": [
        {"order_id": "o-inc", "customer_id": "cx-inc", "status": "completed", "currency": "USD",
         "total_amount": Decimal("50.00"), "discount_amount": Decimal("0.00"), "ordered_at": ts("2026-03-01 09:00"),
         "updated_at": ts("2026-03-01 09:00"), "_loaded_at": ts("2026-03-01 10:00")},
        {"order_id": "o-fix", "customer_id": "cx-fix", "status": "completed", "currency": "USD",
         "total_amount": Decimal("40.00"), "discount_amount": Decimal("0.00"), "ordered_at": ts("2026-03-02 09:00"),
         "updated_at": ts("2026-03-02 09:00"), "_loaded_at": ts("2026-03-02 10:00")},
    ],
    "shop_refunds": [
        {"refund_id": "r-inc", "order_id": "o-inc", "amount": Decimal("10.00"),
         "refunded_at": ts("2026-03-05 09:00"), "_loaded_at": ts("2026-03-05 10:00")},
        {"refund_id": "r-fix", "order_id": "o-fix", "amount": Decimal("5.00"),
         "refunded_at": ts("2026-03-06 09:00"), "_loaded_at": ts("2026-03-06 10:00")},
    ],
    "shop_checkouts": [
        {"checkout_id": "co-inc", "customer_id": "cx-inc", "cart_amount": Decimal("20.00"), "currency": "USD",
         "created_at": ts("2026-06-01 09:00"), "_loaded_at": ts("2026-06-01 10:00")},
        {"checkout_id": "co-fix", "customer_id": "cx-fix", "cart_amount": Decimal("30.00"), "currency": "USD",
         "created_at": ts("2026-06-02 09:00"), "_loaded_at": ts("2026-06-02 10:00")},
    ],
    "email_events": [{
        "event_type": "open", "email": "nokey@example.com", "occurred_at": ts("2026-06-29 08:00"),
        "_loaded_at": ts("2026-06-29 20:00"),
    }],
}  # fmt: skip


def pick(db: Db, sql: str) -> tuple:
    rows = db.rows(sql)
    assert rows, f"the generated data has no row for: {sql}"
    return rows[0]


def second_run_rows(db: Db) -> tuple[Rows, dict[str, str]]:
    """Hand-made rows landed with the next day, on keys of the first build."""
    late_event, late_loaded, late_occurred = pick(db, """
        select event_id, _loaded_at, occurred_at from staging.base_email__events
        where dq_status = 'kept' and event_type = 'open'
        order by _loaded_at desc, event_id limit 1""")
    counted = "select order_id from marts.fct_orders where is_counted and refunded_amount = 0 order by order_id"
    cancelled_order, refunded_order = (row[0] for row in db.rows(counted + " limit 2"))
    refund_of_rejected, rejected_order = pick(db, """
        select refund_id, order_id from staging.stg_shop__refunds
        where order_id <> 'o-inc' order by refund_id limit 1""")

    def new_version(order_id: str, **changes: Any) -> dict[str, Any]:
        names = [name for name, _ in RAW_TABLES["shop_orders"]]
        row = dict(zip(names, pick(db, f"""
            select {', '.join(names)} from raw.shop_orders where order_id = '{order_id}'
            order by updated_at desc nulls last, _loaded_at desc limit 1""")))
        return {**row, "updated_at": ts("2026-06-30 12:00"), "_loaded_at": LANDED, **changes}

    rows = {
        # Landed before the first build's newest row (within the lookback), it is now the
        # earliest delivery of its key, and its email is invalid: the event is rejected.
        "email_events": [
            {"event_id": late_event, "event_type": "open", "email": "not-an-email",
             "occurred_at": late_occurred, "_loaded_at": late_loaded - dt.timedelta(minutes=30)},
            {"event_type": "click", "email": "nokey@example.com", "occurred_at": ts("2026-06-30 08:00"),
             "_loaded_at": LANDED},
        ],
        "shop_orders": [
            new_version(cancelled_order, status="cancelled"),
            new_version(rejected_order, total_amount=Decimal("-1.00")),
        ],
        "shop_refunds": [
            {"refund_id": "r-new", "order_id": refunded_order, "amount": Decimal("1.00"),
             "refunded_at": ts("2026-06-30 10:00"), "_loaded_at": LANDED},
        ],
        "shop_customers": [
            {"customer_id": "cx-inc", "email": "broken", "created_at": ts("2026-01-01 09:00"),
             "updated_at": ts("2026-06-30 12:00"), "_loaded_at": LANDED},
            {"customer_id": "cx-fix", "email": " Fix.Customer@Example.com", "created_at": ts("2026-01-01 09:00"),
             "updated_at": ts("2026-06-30 12:00"), "_loaded_at": LANDED},
        ],
    }  # fmt: skip
    keys = {
        "late_event": late_event,
        "cancelled_order": cancelled_order,
        "refunded_order": refunded_order,
        "rejected_order": rejected_order,
        "refund_of_rejected": refund_of_rejected,
    }
    return rows, keys


def rejected_hand_rows(db: Db) -> dict[str, str]:
    """The reasons dq_rejected_rows gives the hand-made orders, checkouts and refunds."""
    listed = "select source_key, reason from marts.dq_rejected_rows where source_key in ({})"
    keys = ["o-inc", "co-inc", "r-inc", "o-fix", "co-fix", "r-fix"]
    return dict(db.rows(listed.format(", ".join("?" for _ in keys)), keys))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The incremental database, its full-refresh copy, and the keys the hand rows touch."""
    work = tmp_path_factory.mktemp("incremental")
    database = work / "audience.duckdb"
    generate(database, profile="S", as_of_date=AS_OF, seed=SEED)
    insert_raw(database, FIRST_RUN_ROWS)
    build(work, database, AS_OF)
    first = Db(database)
    rejected_first = rejected_hand_rows(first)
    rows, keys = second_run_rows(first)
    generate_next_day(database, "S", AS_OF, seed=SEED)
    insert_raw(database, rows)
    build(work, database, NEXT)

    refreshed_dir = tmp_path_factory.mktemp("full_refresh")
    refreshed = refreshed_dir / "audience.duckdb"
    shutil.copy(database, refreshed)
    build(refreshed_dir, refreshed, NEXT, "--full-refresh")
    return {"incremental": Db(database), "refreshed": Db(refreshed), "keys": keys, "rejected_first": rejected_first}


def test_incremental_equals_full_refresh_row_for_row(runs: dict[str, Any]) -> None:
    tables, differing = compare_builds(runs["incremental"].path, runs["refreshed"].path)
    assert {"staging.base_email__events", "intermediate.int_email_events_identified", "marts.fct_orders"} <= set(tables)
    assert not differing, f"rows only in the incremental / only in the full-refresh build: {differing}"


def test_the_comparison_finds_one_changed_row_and_a_missing_column(runs: dict[str, Any], tmp_path: Path) -> None:
    """compare_builds (also make bench's check) counts a changed row on both sides and
    refuses builds whose columns differ."""
    changed = tmp_path / "audience.duckdb"
    shutil.copy(runs["refreshed"].path, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute(
            "update marts.dim_customers set lifecycle_stage = 'changed' "
            "where customer_id = (select min(customer_id) from marts.dim_customers)"
        )
    _, differing = compare_builds(runs["incremental"].path, changed)
    assert differing == {"marts.dim_customers": (1, 1)}
    with duckdb.connect(str(changed)) as con:
        con.execute("alter table marts.dim_customers drop column lifecycle_stage")
    with pytest.raises(ValueError, match=r"not have the same relations and columns: \['marts.dim_customers'\]"):
        compare_builds(runs["incremental"].path, changed)


def test_the_second_run_reclassified_what_changed(runs: dict[str, Any]) -> None:
    db, keys = runs["incremental"], runs["keys"]
    assert runs["rejected_first"] == {"o-fix": "unidentifiable", "co-fix": "unidentifiable", "r-fix": "orphan_refund"}
    assert rejected_hand_rows(db) == {"o-inc": "unidentifiable", "co-inc": "unidentifiable", "r-inc": "orphan_refund"}
    rejected = dict(
        ((table, key), reason) for table, key, reason in db.rows("select source_table, source_key, reason from marts.dq_rejected_rows")
    )
    assert rejected[("email_events", keys["late_event"])] == "invalid_email"
    assert rejected[("shop_orders", keys["rejected_order"])] == "negative_amount"
    assert rejected[("shop_refunds", keys["refund_of_rejected"])] == "orphan_refund"
    assert db.rows("select count(*) from marts.fct_email_events where event_id = ?", [keys["late_event"]]) == [(0,)]
    assert db.rows(
        "select count(*) from staging.base_email__events where event_id is null and email = 'nokey@example.com' "
        "and dq_reject_reason = 'missing_value'"
    ) == [(2,)]
    orders = dict(
        (order_id, (status, is_counted, refunded))
        for order_id, status, is_counted, refunded in db.rows(
            "select order_id, status, is_counted, refunded_amount from marts.fct_orders where order_id in (?, ?)",
            [keys["cancelled_order"], keys["refunded_order"]],
        )
    )
    assert orders[keys["cancelled_order"]] == ("cancelled", False, Decimal("0.00"))
    assert orders[keys["refunded_order"]][2] == Decimal("1.00")
    # cx-fix's email, fixed, now identifies its order (counted, its refund applied) and checkout.
    fixed = "fix.customer@example.com"
    valued = "select email, refunded_amount, is_counted from intermediate.int_orders_valued where order_id = 'o-fix'"
    assert db.rows(valued) == [(fixed, Decimal("5.00"), True)]
    assert db.rows("select email from intermediate.int_checkouts_identified where checkout_id = 'co-fix'") == [(fixed,)]
    reconciliation = db.rows("select count(*) from marts.dq_reconciliation where raw_rows <> kept_rows + superseded_rows + rejected_rows")
    assert reconciliation == [(0,)]


def test_a_second_run_without_new_rows_reclassifies_nothing(runs: dict[str, Any], tmp_path: Path) -> None:
    """Past the lookback, nothing is reclassified: dq_processed_at of the base rows stays."""
    database = tmp_path / "audience.duckdb"
    shutil.copy(runs["incremental"].path, database)
    before = Db(database).rows("select max(dq_processed_at) from staging.base_email__events")
    result = dbt_in(
        tmp_path, database,
        ["run", "-s", "base_email__events", "--vars", json.dumps({"as_of_date": NEXT.isoformat(), "incremental_lookback_days": 0})],
    )  # fmt: skip
    assert result.success
    assert Db(database).rows("select max(dq_processed_at) from staging.base_email__events") == before


@pytest.mark.parametrize("days", [-1, 1.5, "three"])
def test_a_bad_lookback_fails_early_with_what_to_fix(runs: dict[str, Any], tmp_path: Path, days: Any) -> None:
    result = dbt_in(
        tmp_path, runs["refreshed"].path,
        ["compile", "-s", "base_shop__orders", "--vars", json.dumps({"incremental_lookback_days": days})],
    )  # fmt: skip
    assert not result.success
    assert "var incremental_lookback_days must be a whole number of days >= 0" in str(result.exception)
