"""Amounts at the edge of SPEC section 1 build exactly (SPEC section 2): money in USD is
DECIMAL(38, 2) and item spend DECIMAL(38, 8).

As of 2026-06-30, two buyers, both with a first counted order 5 days before (lifecycle
`new`):
- big@: one GBP order of 9,999,999,999,999,999.99 (the largest DECIMAL(18,2)), rate
  1.318: net revenue 13,179,999,999,999,999.98682 -> 13,179,999,999,999,999.99 USD;
  one item of 2,147,483,647 (the largest INTEGER) x 43.00 GBP = 92,341,796,821.00 GBP
  -> x 1.318 = 121,706,488,210.078 USD of spend in `electronics`.
- small@: one USD order of 10.00.
Segment lifecycle/new: revenue 13,180,000,000,000,009.99 over 2 orders, AOV
6,590,000,000,000,004.995 -> 6,590,000,000,000,005.00 (half away from zero).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from conftest import Db, Rows, build

AS_OF = "2026-06-30"
ORDERED = dt.datetime(2026, 6, 25, 12, 0)
LOADED = ORDERED + dt.timedelta(hours=1)


def order(order_id: str, email: str, currency: str, total: str) -> dict[str, Any]:
    return {
        "order_id": order_id, "email": email, "status": "completed", "currency": currency,
        "total_amount": Decimal(total), "discount_amount": Decimal("0.00"), "ordered_at": ORDERED,
        "updated_at": ORDERED, "_loaded_at": LOADED,
    }  # fmt: skip


RAW: Rows = {
    "shop_orders": [
        order("o-big", "big@example.com", "GBP", "9999999999999999.99"),
        order("o-small", "small@example.com", "USD", "10.00"),
    ],
    "shop_order_items": [
        {"order_item_id": "i-big", "order_id": "o-big", "product_id": "p-1", "product_category": "Electronics",
         "quantity": 2147483647, "unit_price": Decimal("43.00"), "_loaded_at": LOADED},
    ],
}  # fmt: skip

BIG_REVENUE = Decimal("13179999999999999.99")
BIG_SPEND = Decimal("121706488210.07800000")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Db:
    return Db(build(tmp_path_factory.mktemp("wide_amounts"), RAW, AS_OF))


def test_the_largest_order_is_valued_exactly(db: Db) -> None:
    rows = db.rows("select order_id, net_revenue_usd from marts.fct_orders order by order_id")
    assert rows == [("o-big", BIG_REVENUE), ("o-small", Decimal("10.00"))]
    customers = db.rows("select email, net_revenue_usd, monetary from marts.dim_customers order by email")
    assert customers == [("big@example.com", BIG_REVENUE, BIG_REVENUE), ("small@example.com", Decimal("10.00"), Decimal("10.00"))]


def test_the_largest_item_spend_is_exact(db: Db) -> None:
    rows = db.rows("select category_spend_usd from intermediate.int_customers_category_affinity")
    assert rows == [(BIG_SPEND,)]


def test_segment_revenue_sums_and_aov_are_exact(db: Db) -> None:
    rows = db.rows("""
        select net_revenue_90d_usd, aov_90d_usd, orders_90d from marts.fct_segment_performance
        where segment_family = 'lifecycle' and segment = 'new'""")
    assert rows == [(Decimal("13180000000000009.99"), Decimal("6590000000000005.00"), 2)]


def test_money_columns_are_declared_wide(db: Db) -> None:
    types = dict(db.rows("""
        select table_name || '.' || column_name, data_type from information_schema.columns
        where table_schema = 'marts' and column_name in ('net_revenue_usd', 'monetary', 'aov_90d_usd')"""))
    assert types and set(types.values()) == {"DECIMAL(38,2)"}, types
