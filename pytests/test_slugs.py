"""One slug rule for every segment name that comes from data (SPEC section 5):
lower(trim(x)), every run of characters outside a-z0-9 -> one '_', no '_' at either end;
longer than 63: the first 54 characters (trailing '_' removed) + '_' + the first 8 hex
digits of md5 of the whole slug. Configured names must already be slugs.

As of 2026-06-30 (spend in USD, one unit each):
- art@: Books 50, ' Art ' 50: a tie, the smallest name wins: art.
- home@: Electronics 100, 'Home & Garden' 60 + 'home-garden' 50 = 110 in one segment: home_garden.
- japan@: '日本' 20: the slug is empty, so category_ + md5('日本')[:8].
- patio@: a 71-character slug, cut to 54 characters + '_' + md5[:8].
- home@'s contact is tagged 'Trade Show', a 300-character tag ('Sales ' x 50), '***',
  '!!!' and '日本': the last three give no segment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import Db, Rows, build, dbt_in

AS_OF = "2026-06-30"
AT = dt.datetime(2026, 6, 20, 12, 0)
PATIO = "Outdoor Living, Patio Furniture & Garden Decor Accessories for Summer 2026"
SALES_TAG = "Sales " * 50  # 300 characters


def md5_8(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()[:8]


def order(order_id: str, email: str) -> dict[str, Any]:
    return {
        "order_id": order_id, "email": email, "status": "completed", "currency": "USD",
        "total_amount": Decimal("500.00"), "discount_amount": Decimal("0.00"), "ordered_at": AT,
        "updated_at": AT, "_loaded_at": AT,
    }  # fmt: skip


def item(item_id: str, order_id: str, category: str, price: str) -> dict[str, Any]:
    return {
        "order_item_id": item_id, "order_id": order_id, "product_id": "p", "product_category": category,
        "quantity": 1, "unit_price": Decimal(price), "_loaded_at": AT,
    }  # fmt: skip


def tag(text: str) -> dict[str, Any]:
    return {"contact_id": "c-home", "tag": text, "tagged_at": AT, "_loaded_at": AT}


RAW: Rows = {
    "crm_contacts": [
        {"contact_id": "c-home", "email": "home@example.com", "is_deleted": False, "created_at": AT,
         "updated_at": AT, "_loaded_at": AT},
    ],
    "crm_contact_tags": [tag("Trade Show"), tag(SALES_TAG), tag("***"), tag("!!!"), tag("日本")],
    "shop_orders": [order("o-art", "art@example.com"), order("o-home", "home@example.com"),
                    order("o-japan", "japan@example.com"), order("o-patio", "patio@example.com")],
    "shop_order_items": [
        item("i1", "o-art", "Books", "50.00"),
        item("i2", "o-art", " Art ", "50.00"),
        item("i3", "o-home", "Electronics", "100.00"),
        item("i4", "o-home", "Home & Garden", "60.00"),
        item("i5", "o-home", "home-garden", "50.00"),
        item("i6", "o-japan", "日本", "20.00"),
        item("i7", "o-patio", PATIO, "10.00"),
    ],
}  # fmt: skip

PATIO_SLUG = "outdoor_living_patio_furniture_garden_decor_accessories_for_summer_2026"
SALES_SLUG = "sales_" * 49 + "sales"
EXPECTED_AFFINITY = {
    "art@example.com": "art",
    "home@example.com": "home_garden",
    "japan@example.com": "category_" + md5_8("日本"),
    # 54 characters end inside a word here: nothing to strip.
    "patio@example.com": "outdoor_living_patio_furniture_garden_decor_accessorie_" + md5_8(PATIO_SLUG),
}

@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Db:
    return Db(build(tmp_path_factory.mktemp("slugs"), RAW, AS_OF))


def test_the_expected_names_follow_the_rule() -> None:
    """The hand-written names above, checked against their lengths."""
    assert len(PATIO_SLUG) == 71 and len(SALES_SLUG) == 299
    assert [len(name) for name in EXPECTED_AFFINITY.values()] == [3, 11, 17, 63]


def test_category_affinity_is_the_slug_with_spend_summed_per_name(db: Db) -> None:
    assert dict(db.rows("select email, category_affinity from marts.dim_customers")) == EXPECTED_AFFINITY
    memberships = db.rows("""
        select customers.email, memberships.segment from marts.fct_segment_memberships as memberships
        inner join marts.dim_customers as customers using (customer_id)
        where memberships.segment_family = 'category_affinity'""")
    assert dict(memberships) == EXPECTED_AFFINITY
    spend = db.rows("""
        select category_spend_usd from intermediate.int_customers_category_affinity as affinity
        inner join marts.dim_customers as customers using (customer_id)
        where customers.email = 'home@example.com'""")
    assert spend == [(Decimal("110.00000000"),)]


def test_crm_tags_are_slugs_capped_at_63_characters(db: Db) -> None:
    tags = db.rows("select segment from marts.fct_segment_memberships where segment_family = 'crm_tag' order by segment")
    sales = "sales_" * 8 + "sales_" + md5_8(SALES_SLUG)
    assert len(sales) == 54 - 1 + 1 + 8
    assert [name for (name,) in tags] == [sales, "trade_show"]


@pytest.mark.parametrize("name", ["High_Value", "high__value", "_leads", "vip-europe"])
def test_a_custom_audience_name_that_is_not_its_slug_is_refused(tmp_path: Path, name: str) -> None:
    audiences = [{"name": name, "description": "A mistake.", "predicate": "is_subscribed"}]
    result = dbt_in(tmp_path, tmp_path / "audience.duckdb", ["parse", "--vars", json.dumps({"custom_audiences": audiences})])
    assert not result.success
    assert f"custom audience '{name}'" in str(result.exception) and "slug" in str(result.exception)


def test_the_name_test_fails_on_a_name_that_is_not_snake_case(db: Db, tmp_path: Path) -> None:
    database = tmp_path / "audience.duckdb"
    shutil.copy(db.path, database)
    with duckdb.connect(str(database)) as con:
        con.execute("alter table marts.fct_segment_memberships rename to memberships_as_built")
        con.execute(
            "create view marts.fct_segment_memberships as select * replace ("
            " case segment when 'trade_show' then 'Trade Show' when 'art' then repeat('a', 64) else segment end as segment)"
            " from marts.memberships_as_built"
        )
    selector = ["--select", "fct_segment_memberships,test_name:snake_case_name", "--vars", json.dumps({"as_of_date": AS_OF})]
    result = dbt_in(tmp_path, database, ["test", *selector])
    assert not result.success
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    outcomes = sorted((r["status"], r["failures"]) for r in results if r["unique_id"].startswith("test."))
    assert outcomes == [("fail", 2), ("pass", 0)]  # segment: two bad names; segment_family: none
