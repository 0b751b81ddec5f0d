"""A `_loaded_at` after the build start is a loader's clock error (SPEC section 2): the row
is classified like any other, but it never moves an incremental watermark and never
makes a source look fresh; a warn-level test lists it."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from audience.freshness import check_sources, stale_message
from audience.project import DATABASE_ENV
from conftest import Db, Rows, build, dbt_in, insert_raw, load_raw, ts

AS_OF = "2026-06-30"
FUTURE = ts("9999-12-31 23:59")  # a loader's clock gone wrong
NOW = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def order(order_id: str, ordered_at: dt.datetime, loaded_at: dt.datetime) -> dict[str, Any]:
    return {
        "order_id": order_id, "email": f"{order_id}@example.com", "status": "completed", "currency": "USD",
        "total_amount": Decimal("10.00"), "discount_amount": Decimal("0.00"), "ordered_at": ordered_at,
        "updated_at": ordered_at, "_loaded_at": loaded_at,
    }  # fmt: skip


RAW: Rows = {
    "shop_orders": [
        order("o-1", ts("2026-06-01 09:00"), ts("2026-06-01 10:00")),
        order("o-future", ts("2026-06-02 09:00"), FUTURE),
    ],
    # Only a row from the future: as good as no data for freshness.
    "shop_refunds": [
        {"refund_id": "r-future", "order_id": "o-1", "amount": Decimal("1.00"),
         "refunded_at": ts("2026-06-03 09:00"), "_loaded_at": FUTURE},
    ],
    # Landed an hour before the build: fresh.
    "shop_customers": [
        {"customer_id": "c-1", "email": "c-1@example.com", "created_at": ts("2026-06-01 09:00"),
         "updated_at": ts("2026-06-01 09:00"), "_loaded_at": NOW - dt.timedelta(hours=1)},
    ],
}  # fmt: skip

# Landed after o-1 and before any build start, but long before the future row.
LATER: Rows = {"shop_orders": [order("o-2", ts("2026-06-10 09:00"), ts("2026-06-10 10:00"))]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("future_loads")
    database = build(work, RAW, AS_OF)
    first_run_results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    manifest = json.loads((work / "target" / "manifest.json").read_text())["nodes"]
    insert_raw(database, LATER)
    result = dbt_in(work, database, ["build", "--vars", json.dumps({"as_of_date": AS_OF})])
    assert result.success, result.exception
    return {"work": work, "db": Db(database), "first_run_results": first_run_results, "manifest": manifest}


def test_a_future_row_is_classified_like_any_other(built: dict[str, Any]) -> None:
    db = built["db"]
    assert db.rows("select dq_status from staging.base_shop__orders where order_id = 'o-future'") == [("kept",)]
    assert db.rows("select dq_status from staging.base_shop__refunds where refund_id = 'r-future'") == [("kept",)]


def test_rows_landed_after_a_future_row_are_still_classified(built: dict[str, Any]) -> None:
    db = built["db"]
    statuses = db.rows("select order_id, dq_status from staging.base_shop__orders order by order_id")
    assert statuses == [("o-1", "kept"), ("o-2", "kept"), ("o-future", "kept")]
    assert db.rows("select order_id from marts.fct_orders where is_counted order by order_id") == [
        ("o-1",), ("o-2",), ("o-future",)
    ]


def test_a_warn_test_lists_future_rows_per_raw_table(built: dict[str, Any]) -> None:
    nodes = built["manifest"]
    outcomes = {
        nodes[result["unique_id"]]["depends_on"]["nodes"][0].split(".")[-1]: (result["status"], result["failures"])
        for result in built["first_run_results"]
        if nodes.get(result["unique_id"], {}).get("test_metadata", {}).get("name") == "loaded_before_build_start"
    }
    assert len(outcomes) == 10, outcomes
    assert outcomes.pop("shop_orders") == ("warn", 1)
    assert outcomes.pop("shop_refunds") == ("warn", 1)
    assert set(outcomes.values()) == {("pass", 0)}


def test_future_rows_never_make_a_source_look_fresh(built: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_ENV, str(built["db"].path))
    ages = {age.table: age for age in check_sources()}
    # o-2 (2026-06-10) is the newest row landed before the build start: stale.
    assert ages["shop_orders"].status == "error"
    assert ages["shop_orders"].age_seconds is not None
    assert ages["shop_orders"].age_seconds > (NOW - ts("2026-06-10 10:00")).total_seconds() - 1
    # Only a future row: no data, not fresh.
    assert ages["shop_refunds"].status == "error" and ages["shop_refunds"].age_seconds is None
    assert ages["shop_customers"].status == "pass"
    message = stale_message(list(ages.values()))
    assert message is not None
    assert "raw.shop_refunds: no rows landed before the check" in message
    assert "raw.shop_customers" not in message


def test_the_freshness_cutoff_is_the_run_start_not_the_parse(tmp_path: Path) -> None:
    """The cutoff is rendered when freshness runs: a row landed after the project was
    parsed (the saved manifest is reused) but before the check counts."""
    database = tmp_path / "audience.duckdb"
    load_raw(database, {})
    assert dbt_in(tmp_path, database, ["parse"]).success
    time.sleep(1.5)
    landed = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(seconds=1)
    insert_raw(database, {"shop_orders": [order("o-new", landed - dt.timedelta(hours=1), landed)]})
    result = dbt_in(tmp_path, database, ["source", "freshness", "--select", "source:shop.shop_orders"])
    [entry] = [entry for entry in result.result.results if entry.node.resource_type == "source"]
    assert entry.max_loaded_at.replace(tzinfo=None) == landed
    assert str(entry.status) == "pass"
