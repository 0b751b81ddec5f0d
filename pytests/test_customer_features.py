"""dim_customer_features and the segment catalogue dim_segments on planted customers whose
expected values are worked out by hand, as of 2026-06-30.

Windows: "within the last N days" is 0 <= as_of_date - order_date < N (SPEC section 3),
so an order 29 days before is in the 30-day window and one 30 days before is not.
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

from conftest import Db, Rows, dbt_in, load_raw

AS_OF = dt.date(2026, 6, 30)
VARS = {
    "as_of_date": AS_OF.isoformat(),
    "custom_audiences": [
        {
            "name": "manufacturing_directors",
            "description": "Directors at manufacturers.",
            "predicate": "company_size <> 'consumer' and counted_orders > 0",
            "owner": "Field marketing",
        },
        {"name": "nobody_yet", "description": "Matches nobody.", "predicate": "counted_orders > 1000"},
    ],
}


def at(days_ago: int, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(AS_OF - dt.timedelta(days=days_ago), dt.time(hour))


def order(order_id: str, email: str, days_ago: int, amount: float, status: str = "completed") -> dict[str, Any]:
    return {
        "order_id": order_id,
        "email": email,
        "status": status,
        "currency": "USD",
        "total_amount": amount,
        "discount_amount": 0,
        "ordered_at": at(days_ago),
        "updated_at": at(days_ago),
        "_loaded_at": at(days_ago) + dt.timedelta(hours=1) if days_ago >= 0 else at(-1, 13),
    }


def contact(contact_id: str, email: str, account_id: str | None, job_title: str | None) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "account_id": account_id,
        "email": email,
        "job_title": job_title,
        "is_deleted": False,
        "created_at": at(500),
        "updated_at": at(100),
        "_loaded_at": at(100),
    }


def account(account_id: str, industry: str | None, employees: int | None) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "industry": industry,
        "employee_count": employees,
        "updated_at": at(300),
        "_loaded_at": at(300),
    }


def item(item_id: str, order_id: str, category: str) -> dict[str, Any]:
    return {
        "order_item_id": item_id,
        "order_id": order_id,
        "product_category": category,
        "quantity": 1,
        "unit_price": 1,
        "_loaded_at": at(0),
    }


def event(event_id: str, email: str, event_type: str, days_ago: int) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "email": email,
        "event_type": event_type,
        "campaign_id": None if event_type == "subscribe" else "CMP1",
        "occurred_at": at(days_ago),
        "_loaded_at": at(days_ago) + dt.timedelta(hours=1) if days_ago >= 0 else at(-1, 13),
    }


RAW: Rows = {
    "crm_accounts": [
        account("ACC1", "Manufacturing", 250),
        account("ACC2", "  MANUFACTURING ", None),
        account("ACC3", "Widgets & Gizmos", 5000),
        account("ACC4", None, 12),
    ],
    "crm_contacts": [
        contact("C1", "a@x.com", "ACC1", "Director of Sales"),
        contact("C2", "b@x.com", "ACC2", "VP Engineering"),
        contact("C3", "c@x.com", "ACC3", "Marketing Manager"),
        # No account; 'cto' must not match inside 'director'.
        contact("C4", "d@x.com", None, "Director"),
        contact("C6", "f@x.com", "ACC4", "Head of Marketing"),
    ],
    "crm_contact_tags": [
        {"contact_id": "C1", "tag": "Trade Show", "tagged_at": at(50), "_loaded_at": at(50)},
        {"contact_id": "C1", "tag": "trade-show", "tagged_at": at(40), "_loaded_at": at(40)},
        {"contact_id": "C1", "tag": "VIP", "tagged_at": at(40), "_loaded_at": at(40)},
        {"contact_id": "C1", "tag": "Later", "tagged_at": at(-1), "_loaded_at": at(-1, 13)},
    ],
    "shop_customers": [
        {"customer_id": "S5", "email": "e@x.com", "created_at": at(400), "updated_at": at(400), "_loaded_at": at(400)},
    ],
    "shop_orders": [
        order("A29", "a@x.com", 29, 100),
        order("A30", "a@x.com", 30, 50),
        order("A89", "a@x.com", 89, 20),
        order("A90", "a@x.com", 90, 10),
        order("A179", "a@x.com", 179, 5),
        order("A180", "a@x.com", 180, 1),
        order("A364", "a@x.com", 364, 2),
        order("A365", "a@x.com", 365, 4),
        order("A-pending", "a@x.com", 5, 1000, status="pending"),
        order("A-future", "a@x.com", -1, 1000),
        order("E0", "e@x.com", 0, 7.5),
    ],
    "shop_order_items": [
        item("I1", "A29", "shoes"),
        item("I2", "A30", "books"),
        item("I3", "A89", "shoes"),
        item("I4", "A-pending", "toys"),
    ],
    "email_events": [
        event("E1", "a@x.com", "subscribe", 200),
        event("E2", "a@x.com", "open", 10),
        event("E3", "a@x.com", "open", 3),
        event("E4", "a@x.com", "click", 40),
        event("E5", "a@x.com", "open", -1),
    ],
}

COLUMNS = (
    "f.industry, f.job_function, seniority, f.employee_count, "
    "orders_30d, orders_90d, orders_180d, orders_365d, "
    "net_revenue_30d_usd, net_revenue_90d_usd, net_revenue_180d_usd, net_revenue_365d_usd, "
    "days_since_last_order, days_since_last_open, days_since_last_click, category_count, crm_tag_count"
)
ZERO = (0, 0, 0, 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), None, None, None, 0, 0)
EXPECTED = {
    "a@x.com": ("manufacturing", "sales", "director", 250, 1, 3, 5, 7,
                Decimal("100.00"), Decimal("170.00"), Decimal("185.00"), Decimal("188.00"), 29, 3, 40, 2, 2),
    "b@x.com": ("manufacturing", "engineering", "vp", None, *ZERO),
    "c@x.com": ("unknown", "marketing", "manager", 5000, *ZERO),
    "d@x.com": ("unknown", "unknown", "director", None, *ZERO),
    "e@x.com": ("unknown", "unknown", "unknown", None, 1, 1, 1, 1,
                Decimal("7.50"), Decimal("7.50"), Decimal("7.50"), Decimal("7.50"), 0, None, None, 0, 0),
    "f@x.com": ("unknown", "marketing", "director", 12, *ZERO),
}


def customer_id(email: str) -> str:
    return hashlib.md5(email.encode()).hexdigest()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Db:
    workdir = tmp_path_factory.mktemp("features")
    database = workdir / "audience.duckdb"
    load_raw(database, RAW)
    result = dbt_in(workdir, database, ["build", "--vars", json.dumps(VARS)])
    assert result.success, f"dbt build failed: {result.exception or 'see logs in ' + str(workdir)}"
    return Db(database)


def test_features_are_one_row_per_customer_with_hand_computed_values(db: Db) -> None:
    rows = db.rows(f"select c.email, {COLUMNS} from marts.dim_customer_features f join marts.dim_customers c using (customer_id)")
    assert {row[0]: tuple(row[1:]) for row in rows} == EXPECTED
    assert db.rows("select count(*) from marts.dim_customers") == [(len(EXPECTED),)]
    assert db.rows("select distinct as_of_date from marts.dim_customer_features") == [(AS_OF,)]


def test_categories_bought_name_categories_as_category_affinity(db: Db) -> None:
    bought = db.rows("select category, cast(spend_usd as double) from intermediate.int_customers_categories_bought "
                     "where customer_id = ? order by 1", [customer_id("a@x.com")])
    assert bought == [("books", 1.0), ("shoes", 2.0)], "items of counted orders only; the pending order's toys are not bought"
    assert db.rows("select category_affinity from marts.dim_customers where email = 'a@x.com'") == [("shoes",)]


def test_catalogue_lists_members_declared_segments_and_owners(db: Db) -> None:
    rows = db.rows(
        "select segment_family, segment, members, segment_owner, population, is_exclusive, "
        "cast(share_of_customers as double), cast(share_of_population as double), description, definition "
        "from marts.dim_segments"
    )
    catalogue = {(r[0], r[1]): r[2:] for r in rows}
    # Declared with nobody in them: every lifecycle stage, RFM segment and custom audience.
    assert catalogue[("lifecycle", "reactivated")][:2] == (0, "Analytics engineering")
    assert catalogue[("rfm", "cant_lose_them")][0] == 0
    assert catalogue[("custom", "nobody_yet")][:2] == (0, "Analytics engineering")
    assert catalogue[("custom", "manufacturing_directors")][:2] == (1, "Field marketing")
    assert catalogue[("custom", "manufacturing_directors")][6:] == (
        "Directors at manufacturers.", "company_size <> 'consumer' and counted_orders > 0")
    # Two buyers (a@ and e@) among six customers; a@ has the higher monetary, m_score 3 (mid).
    assert catalogue[("lifecycle", "active")][:6] == (1, "Analytics engineering", "customers", True, 0.1667, 0.1667)
    assert catalogue[("value_tier", "mid")][2:6] == ("buyers", True, 0.1667, 0.5)
    assert catalogue[("crm_tag", "trade_show")][2:6] == ("none", False, 0.1667, None)
    assert catalogue[("crm_tag", "trade_show")][6].startswith("Customers with a live CRM contact tagged trade_show")
    assert catalogue[("lifecycle", "new")][7] == "first counted order within 30 days", "thresholds come from the vars"
    assert catalogue[("rfm", "champions")][7] == "(r_score, f_score) in (5, 4), (5, 5)"
    observed = db.rows("select segment_family, segment, count(*) from marts.fct_segment_memberships group by all")
    assert all(catalogue[(family, segment)][0] == members for family, segment, members in observed)


@pytest.mark.parametrize(
    "tamper",
    [
        "delete from marts.dim_segments where segment_family = 'crm_tag' and segment = 'vip'",
        # fct_segment_memberships is a view over the model that assigns memberships
        "insert into intermediate.int_segment_memberships_grouped by name select as_of_date, customer_id, "
        "'crm_tag' as segment_family, 'brand_new' as segment, is_emailable from marts.dim_customers limit 1",
    ],
)
def test_the_catalogue_test_fails_when_a_segment_is_missing(db: Db, tmp_path: Path, tamper: str) -> None:
    copy = tmp_path / "audience.duckdb"
    shutil.copy(db.path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(tamper)
    args = ["test", "--select", "dim_segments,test_name:catalogues_every_segment", "--vars", json.dumps(VARS)]
    result = dbt_in(tmp_path, copy, args)
    assert not result.success
    [failed] = [r for r in result.result.results if str(r.status) == "fail"]
    assert failed.node.name.startswith("catalogues_every_segment") and failed.failures == 1


def test_the_catalogue_test_passes_on_the_build(db: Db, tmp_path: Path) -> None:
    args = ["test", "--select", "dim_segments,test_name:catalogues_every_segment", "--vars", json.dumps(VARS)]
    result = dbt_in(tmp_path, db.path, args)
    tests = [r for r in result.result.results if r.node.resource_type == "test"]  # hooks report too
    assert result.success and len(tests) == 1
