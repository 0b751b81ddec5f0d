"""Exact ties on the version columns (SPEC section 2) are broken by the table's other
columns in the order of section 1, ascending, nulls last, strings as landed compared
byte by byte: every build of the same raw data keeps the same row, full or incremental.

Each losing row is inserted first, so an arbitrary choice that follows insertion order
would keep it."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from typing import Any

import pytest

from conftest import Db, Rows, build, dbt_in, insert_raw, ts

AS_OF = "2026-06-30"
UPDATED = ts("2026-06-01 09:00")
LOADED = ts("2026-06-01 10:00")  # the same on every tied row
APPENDED = ts("2026-06-30 10:00")  # an older version landed later: it loses, but reopens the key


def order(order_id: str, status: str, customer_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id, "customer_id": customer_id, "email": "tie@example.com", "status": status,
        "currency": "USD", "total_amount": Decimal("10.00"), "discount_amount": Decimal("0.00"),
        "ordered_at": ts("2026-06-01 08:00"), "updated_at": UPDATED, "_loaded_at": LOADED, **extra,
    }  # fmt: skip


def item(category: str, quantity: int, **extra: Any) -> dict[str, Any]:
    return {
        "order_item_id": "i-tie", "order_id": "o-tie", "product_id": "p-1", "product_category": category,
        "quantity": quantity, "unit_price": Decimal("5.00"), "_loaded_at": LOADED, **extra,
    }  # fmt: skip


RAW: Rows = {
    "shop_customers": [
        {"customer_id": "cx-1", "email": "tie@example.com", "created_at": ts("2026-01-01 00:00"),
         "updated_at": ts("2026-01-01 00:00"), "_loaded_at": ts("2026-01-01 01:00")},
    ],
    "shop_orders": [
        # customer_id, email equal; status decides: 'completed' < 'pending'.
        order("o-tie", "pending"),
        order("o-tie", "completed"),
        # Byte order: 'P' (0x50) sorts before 'c' (0x63), whatever the locale says.
        order("o-case", "completed"),
        order("o-case", "Pending"),
        # customer_id decides first: a null sorts last.
        order("o-null", "completed", customer_id=None),
        order("o-null", "pending", customer_id="cx-1"),
    ],
    # Event-like: order_id and product_id equal; product_category decides: 'Books' < 'Toys'.
    "shop_order_items": [item("Toys", 2), item("Books", 1)],
}  # fmt: skip

APPEND: Rows = {
    "shop_orders": [
        order(key, "cancelled", updated_at=ts("2026-05-01 00:00"), _loaded_at=APPENDED)
        for key in ("o-tie", "o-case", "o-null")
    ],
    "shop_order_items": [item("Garden", 9, _loaded_at=APPENDED)],
}

EXPECTED_ORDERS = [("o-case", None, "pending"), ("o-null", "cx-1", "pending"), ("o-tie", None, "completed")]
EXPECTED_ITEMS = [("i-tie", "Books", 1)]
KEPT_ORDERS = "select order_id, customer_id, status from staging.base_shop__orders where dq_status = 'kept' order by 1"
KEPT_ITEMS = "select order_item_id, product_category, quantity from staging.base_shop__order_items where dq_status = 'kept'"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("ties")
    database = build(work, RAW, AS_OF)
    first = {"orders": Db(database).rows(KEPT_ORDERS), "items": Db(database).rows(KEPT_ITEMS)}
    nodes = json.loads((work / "target" / "manifest.json").read_text())["nodes"]
    warnings = {
        nodes[result["unique_id"]]["depends_on"]["nodes"][0].split(".")[-1]: (result["status"], result["failures"])
        for result in json.loads((work / "target" / "run_results.json").read_text())["results"]
        if nodes.get(result["unique_id"], {}).get("test_metadata", {}).get("name") == "survivor_is_unambiguous"
    }
    insert_raw(database, APPEND)
    result = dbt_in(work, database, ["build", "--vars", json.dumps({"as_of_date": AS_OF})])
    assert result.success, result.exception
    refreshed_dir = tmp_path_factory.mktemp("ties_full_refresh")
    refreshed = refreshed_dir / "audience.duckdb"
    shutil.copy(database, refreshed)
    result = dbt_in(refreshed_dir, refreshed, ["build", "--full-refresh", "--vars", json.dumps({"as_of_date": AS_OF})])
    assert result.success, result.exception
    return {"first": first, "warnings": warnings, "incremental": Db(database), "refreshed": Db(refreshed)}


def test_exact_ties_are_broken_by_the_other_columns_in_byte_order(runs: dict[str, Any]) -> None:
    assert runs["first"] == {"orders": EXPECTED_ORDERS, "items": EXPECTED_ITEMS}


def test_an_incremental_run_keeps_the_same_rows_as_a_full_refresh(runs: dict[str, Any]) -> None:
    for db in (runs["incremental"], runs["refreshed"]):
        assert db.rows(KEPT_ORDERS) == EXPECTED_ORDERS
        assert db.rows(KEPT_ITEMS) == EXPECTED_ITEMS
    every_row = "select order_id, status, customer_id, _loaded_at, dq_version_number, dq_status from staging.base_shop__orders order by all"
    assert runs["incremental"].rows(every_row) == runs["refreshed"].rows(every_row)


def test_exact_ties_are_still_reported(runs: dict[str, Any]) -> None:
    warnings = runs["warnings"]
    assert warnings.pop("base_shop__orders") == ("warn", 3)
    assert warnings.pop("base_shop__order_items") == ("warn", 1)
    assert set(warnings.values()) == {("pass", 0)}
