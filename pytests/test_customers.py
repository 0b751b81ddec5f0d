"""SPEC sections 3-6 on planted customers whose expected attributes are worked out by hand.

As of 2026-06-30 there are ten buyers, so every score is 1 + floor((rank - 1) / 2):
ranks 1-2 score 1, 3-4 score 2, 5-6 score 3, 7-8 score 4, 9-10 score 5.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import REFUSED_PREDICATES, Db, Rows, build, dbt_in

AS_OF = dt.date(2026, 6, 30)
EARLIER = dt.date(2026, 4, 1)  # 90 days before AS_OF


def at(days_ago: int, hour: int = 12) -> dt.datetime:
    """A timestamp `days_ago` days before AS_OF (negative: after it)."""
    return dt.datetime.combine(AS_OF - dt.timedelta(days=days_ago), dt.time(hour))


def order(order_id: str, email: str | None, days_ago: int, amount: float, **extra: Any) -> dict[str, Any]:
    ordered_at = at(days_ago)
    row = {
        "order_id": order_id,
        "email": email,
        "status": "completed",
        "currency": "USD",
        "total_amount": amount,
        "discount_amount": 0,
        "ordered_at": ordered_at,
        "updated_at": ordered_at,
        "_loaded_at": ordered_at + dt.timedelta(hours=1),
    }
    row.update(extra)
    return row


def event(event_id: str, email: str, event_type: str, days_ago: int, hour: int = 12, **extra: Any) -> dict[str, Any]:
    occurred_at = at(days_ago, hour)
    return {
        "event_id": event_id,
        "email": email,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "_loaded_at": occurred_at + dt.timedelta(hours=1),
        **extra,
    }


def contact(contact_id: str, email: str, updated_days_ago: int = 100, **extra: Any) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "email": email,
        "is_deleted": False,
        "created_at": at(500),
        "updated_at": at(updated_days_ago),
        "_loaded_at": at(updated_days_ago) + dt.timedelta(hours=1),
        **extra,
    }


def shop_customer(customer_id: str, email: str, country: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "email": email,
        "country": country,
        "created_at": at(500),
        "updated_at": at(400),
        "_loaded_at": at(400),
    }


def item(item_id: str, order_id: str, category: str | None, quantity: int, unit_price: float) -> dict[str, Any]:
    return {
        "order_item_id": item_id,
        "order_id": order_id,
        "product_category": category,
        "quantity": quantity,
        "unit_price": unit_price,
        "_loaded_at": at(0),
    }


def account(account_id: str, employees: int | None) -> dict[str, Any]:
    return {"account_id": account_id, "employee_count": employees, "updated_at": at(300), "_loaded_at": at(300)}


RAW: Rows = {
    "crm_accounts": [account("ACC1", 1000), account("ACC2", 999), account("ACC3", 0), account("ACC4", 1)],
    "crm_contacts": [
        contact("P1", "prospect@x.com", country=" U.S.A. ", account_id="ACC1"),
        contact("P2", "new@x.com", country="Atlantis"),
        contact("P3", "react@x.com", country="uk"),
        contact("P4", "edge30@x.com", account_id="ACC2"),
        contact("P5", "gap179@x.com", account_id="ACC3"),
        contact("P6", "atrisk@x.com", account_id="ACC-missing"),
        contact("P7", "lapsed@x.com", account_id="ACC4"),
        # Two live contacts: the latest-updated one decides country and account.
        contact("P8", "multi@x.com", updated_days_ago=100, country="France", account_id="ACC1"),
        contact("P9", "multi@x.com", updated_days_ago=10, country="Spain"),
        # A deleted contact creates no customer.
        contact("P10", "deleted@x.com", is_deleted=True),
        # Created after the as-of date: not yet a customer.
        contact("P11", "later@x.com") | {"created_at": at(-1)},
    ],
    "crm_contact_tags": [
        {"contact_id": "P1", "tag": "Trade Show", "tagged_at": at(50), "_loaded_at": at(50)},
        {"contact_id": "P1", "tag": " trade-show ", "tagged_at": at(40), "_loaded_at": at(40)},
        {"contact_id": "P1", "tag": "--VIP--", "tagged_at": at(40), "_loaded_at": at(40)},
        {"contact_id": "P1", "tag": "***", "tagged_at": at(40), "_loaded_at": at(40)},
        {"contact_id": "P1", "tag": "Future Tag", "tagged_at": at(-2), "_loaded_at": at(-1)},
        {"contact_id": "P10", "tag": "Deleted Tag", "tagged_at": at(40), "_loaded_at": at(40)},
    ],
    "shop_customers": [
        shop_customer("S2", "new@x.com", "Deutschland"),
        shop_customer("S3", "react@x.com", "France"),
        shop_customer("S7", "lapsed@x.com", "Germany"),
        shop_customer("S10", "vip@x.com", "usa"),
    ],
    "shop_orders": [
        order("O-new", "new@x.com", 29, 100),
        order("O-edge30", "edge30@x.com", 30, 100),
        order("O-react-1", "react@x.com", 300, 50),
        order("O-react-2", "react@x.com", 89, 50),
        order("O-gap-1", "gap179@x.com", 268, 50),
        order("O-gap-2", "gap179@x.com", 89, 50),
        order("O-atrisk", "atrisk@x.com", 90, 200),
        order("O-lapsed", "lapsed@x.com", 180, 300),
        order("O-churn", "churn@x.com", 365, 10),
        order("O-l364", "lapsed364@x.com", 364, 10),
        # 50 EUR; its refund is dated after the as-of date, so it still counts.
        order("O-late", "laterefund@x.com", 20, 50, currency="eur"),
        # Fully refunded: net 0, not counted.
        order("O-refunded", "refund@x.com", 10, 100),
        # The VIP: a guest order identified through its shop customer, two of three discounted.
        order("O-vip-1", None, 2, 40, customer_id="S10", discount_amount=5),
        order("O-vip-2", "vip@x.com", 20, 40, discount_amount=5),
        order("O-vip-3", "vip@x.com", 170, 40),
        # Not counted: pending, cancelled, or placed after the as-of date.
        order("O-pending", "prospect@x.com", 5, 80, status="pending"),
        order("O-future", "future@x.com", -1, 80, _loaded_at=at(-2)),
    ],
    "shop_order_items": [
        item("I1", "O-vip-1", "apparel", 2, 10),
        item("I2", "O-vip-2", "shoes", 1, 20),
        item("I3", "O-new", None, 1, 100),
        item("I4", "O-react-2", "books", 1, 50),
        item("I5", "O-react-1", "toys", 2, 24.99),
        item("I6", "O-pending", "electronics", 1, 80),
    ],
    "shop_refunds": [
        {"refund_id": "R1", "order_id": "O-refunded", "amount": 100, "refunded_at": at(5), "_loaded_at": at(5)},
        {"refund_id": "R2", "order_id": "O-late", "amount": 50, "refunded_at": at(-2), "_loaded_at": at(-1)},
    ],
    "shop_checkouts": [
        # Abandoned 6 days ago by a non-buyer: a cart abandoner.
        {"checkout_id": "K1", "email": "cart@x.com", "currency": "USD", "cart_amount": 30, "created_at": at(6), "_loaded_at": at(6)},
        # Abandoned 7 days ago: outside the 7-day window.
        {"checkout_id": "K2", "email": "cart7@x.com", "currency": "USD", "cart_amount": 30, "created_at": at(7), "_loaded_at": at(7)},
        # Abandoned 3 days ago, but the VIP ordered 2 days ago: not an abandoner.
        {"checkout_id": "K3", "email": "vip@x.com", "currency": "USD", "cart_amount": 30, "created_at": at(3), "_loaded_at": at(3)},
        # Completed checkout: not abandoned.
        {"checkout_id": "K4", "email": "edge30@x.com", "currency": "USD", "cart_amount": 30, "completed_order_id": "O-edge30", "created_at": at(1), "_loaded_at": at(1)},
    ],
    "email_events": [
        event("E1", "new@x.com", "subscribe", 100),
        event("E2", "new@x.com", "open", 10, campaign_id="K"),
        event("E3", "sub@x.com", "subscribe", 10),
        event("E4", "sub30@x.com", "subscribe", 30),
        # Unsubscribe at the very time of the subscribe: suppressed.
        event("E5", "supp@x.com", "subscribe", 50),
        event("E6", "supp@x.com", "unsubscribe", 50),
        # Resubscribed after an unsubscribe: subscribed; a click 89 days ago: engaged.
        event("E7", "resub@x.com", "unsubscribe", 60),
        event("E8", "resub@x.com", "subscribe", 40),
        event("E9", "resub@x.com", "click", 89, campaign_id="K"),
        # An open exactly 90 days ago is outside the engagement window.
        event("E10", "open90@x.com", "subscribe", 200),
        event("E11", "open90@x.com", "open", 90, campaign_id="K"),
        event("E12", "hard@x.com", "subscribe", 100),
        event("E13", "hard@x.com", "bounce", 20, bounce_type="hard"),
        event("E14", "soft@x.com", "subscribe", 100),
        event("E15", "soft@x.com", "bounce", 20, bounce_type="soft"),
        event("E16", "lapsed@x.com", "subscribe", 400),
        # A complaint with no subscribe at all: suppressed.
        event("E17", "complain@x.com", "complaint", 15, campaign_id="K"),
        # Happens after the as-of date: ignored.
        event("E18", "sub30@x.com", "unsubscribe", -1, _loaded_at=at(-1, 13)),
    ],
}

# email: (lifecycle, email_engagement, is_subscribed, is_suppressed)
EXPECTED_STATES = {
    "new@x.com": ("new", "engaged", True, False),
    "edge30@x.com": ("active", "not_subscribed", False, False),
    "react@x.com": ("reactivated", "not_subscribed", False, False),
    "gap179@x.com": ("active", "not_subscribed", False, False),
    "atrisk@x.com": ("at_risk", "not_subscribed", False, False),
    "lapsed@x.com": ("lapsed", "unengaged", True, False),
    "churn@x.com": ("churned", "not_subscribed", False, False),
    "lapsed364@x.com": ("lapsed", "not_subscribed", False, False),
    "laterefund@x.com": ("new", "not_subscribed", False, False),
    "refund@x.com": ("prospect", "not_subscribed", False, False),
    "vip@x.com": ("active", "not_subscribed", False, False),
    "prospect@x.com": ("prospect", "not_subscribed", False, False),
    "multi@x.com": ("prospect", "not_subscribed", False, False),
    "cart@x.com": ("prospect", "not_subscribed", False, False),
    "cart7@x.com": ("prospect", "not_subscribed", False, False),
    "sub@x.com": ("subscriber", "new_subscriber", True, False),
    "sub30@x.com": ("subscriber", "unengaged", True, False),
    "supp@x.com": ("prospect", "suppressed", False, True),
    "resub@x.com": ("subscriber", "engaged", True, False),
    "open90@x.com": ("subscriber", "unengaged", True, False),
    "hard@x.com": ("prospect", "suppressed", False, True),
    "soft@x.com": ("subscriber", "unengaged", True, False),
    "complain@x.com": ("prospect", "suppressed", False, True),
}

# email: (recency_days, frequency, monetary, r, f, m, rfm_segment, value_tier, category_affinity)
EXPECTED_RFM = {
    "churn@x.com": (365, 1, "10.00", 1, 1, 1, "hibernating", "low", "unknown"),
    "lapsed364@x.com": (364, 1, "10.00", 1, 1, 1, "hibernating", "low", "unknown"),
    "lapsed@x.com": (180, 1, "300.00", 2, 1, 5, "hibernating", "high", "unknown"),
    "atrisk@x.com": (90, 1, "200.00", 2, 1, 5, "hibernating", "high", "unknown"),
    "react@x.com": (89, 2, "100.00", 3, 4, 2, "loyal_customers", "low", "books"),
    "gap179@x.com": (89, 2, "100.00", 3, 4, 2, "loyal_customers", "low", "unknown"),
    "edge30@x.com": (30, 1, "100.00", 4, 1, 2, "promising", "low", "unknown"),
    "new@x.com": (29, 1, "100.00", 4, 1, 2, "promising", "low", "unknown"),
    "laterefund@x.com": (20, 1, "57.85", 5, 1, 2, "new_customers", "low", "unknown"),
    "vip@x.com": (2, 3, "120.00", 5, 5, 4, "champions", "mid", "apparel"),
}

# email: (country_code, region, account_id, company_size)
EXPECTED_PLACES = {
    "prospect@x.com": ("US", "north_america", "ACC1", "enterprise"),
    "new@x.com": ("DE", "europe", None, "consumer"),
    "react@x.com": ("GB", "europe", None, "consumer"),
    "edge30@x.com": (None, "unknown", "ACC2", "mid_market"),
    "gap179@x.com": (None, "unknown", "ACC3", "unknown_size"),
    "atrisk@x.com": (None, "unknown", "ACC-missing", "unknown_size"),
    "lapsed@x.com": ("DE", "europe", "ACC4", "smb"),
    "multi@x.com": ("ES", "europe", None, "consumer"),
    "vip@x.com": ("US", "north_america", None, "consumer"),
}

EXPECTED_NON_EXCLUSIVE = {
    ("behaviour", "vip"): {"vip@x.com"},
    ("behaviour", "repeat_buyer"): {"vip@x.com", "react@x.com", "gap179@x.com"},
    ("behaviour", "one_time_buyer"): {
        "new@x.com", "edge30@x.com", "atrisk@x.com", "lapsed@x.com", "churn@x.com",
        "lapsed364@x.com", "laterefund@x.com",
    },
    ("behaviour", "cart_abandoner"): {"cart@x.com"},
    ("behaviour", "bargain_hunter"): {"vip@x.com"},
    ("behaviour", "engaged_non_buyer"): {"resub@x.com"},
    ("behaviour", "winback"): {"lapsed@x.com"},
    ("crm_tag", "trade_show"): {"prospect@x.com"},
    ("crm_tag", "vip"): {"prospect@x.com"},
    ("custom", "high_value_europe"): {"lapsed@x.com"},
    ("custom", "subscribed_prospects"): {"sub@x.com", "sub30@x.com", "resub@x.com", "open90@x.com", "soft@x.com"},
}


def customer_id(email: str) -> str:
    return hashlib.md5(email.encode()).hexdigest()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Db:
    return Db(build(tmp_path_factory.mktemp("customers"), RAW, AS_OF.isoformat()))


def by_email(db: Db, columns: str) -> dict[str, tuple]:
    return {row[0]: tuple(row[1:]) for row in db.rows(f"select email, {columns} from marts.dim_customers")}


def test_customers_are_the_valid_emails_existing_as_of_the_date(db: Db) -> None:
    emails = {email for (email,) in db.rows("select email from marts.dim_customers")}
    assert emails == set(EXPECTED_STATES)
    ids = db.rows("select customer_id, email, as_of_date from marts.dim_customers")
    assert all(cid == customer_id(email) and day == AS_OF for cid, email, day in ids)


def test_lifecycle_and_email_state(db: Db) -> None:
    got = by_email(db, "lifecycle_stage, email_engagement, is_subscribed, is_suppressed")
    assert got == EXPECTED_STATES
    emailable = by_email(db, "is_emailable")
    assert all(emailable[email] == (state[2],) for email, state in EXPECTED_STATES.items())


def test_rfm_scores_ties_and_segments(db: Db) -> None:
    got = by_email(
        db,
        "recency_days, frequency, cast(monetary as varchar), r_score, f_score, m_score, "
        "rfm_segment, value_tier, category_affinity",
    )
    buyers = {email: values for email, values in got.items() if values[0] is not None}
    assert buyers == EXPECTED_RFM
    cells = by_email(db, "rfm_cell")
    assert cells["vip@x.com"] == ("554",) and cells["churn@x.com"] == ("111",)
    non_buyers = by_email(db, "counted_orders, net_revenue_usd, first_order_date, rfm_cell, category_affinity")
    assert non_buyers["refund@x.com"] == (0, 0, None, None, None)


def test_order_history_and_net_revenue(db: Db) -> None:
    got = by_email(db, "counted_orders, cast(net_revenue_usd as varchar), first_order_date, last_order_date")
    assert got["vip@x.com"] == (3, "120.00", AS_OF - dt.timedelta(days=170), AS_OF - dt.timedelta(days=2))
    orders = {row[0]: row[1:] for row in db.rows("select order_id, is_counted, cast(net_revenue_usd as varchar), customer_id from marts.fct_orders")}
    assert orders["O-refunded"][:2] == (False, "0.00")
    assert orders["O-late"][:2] == (True, "57.85")
    assert orders["O-pending"][:2] == (False, "80.00")
    assert orders["O-vip-1"][2] == customer_id("vip@x.com"), "a guest order takes its shop customer's email"
    assert "O-future" not in orders


def test_location_and_company_size(db: Db) -> None:
    got = by_email(db, "country_code, region, account_id, company_size")
    assert {email: got[email] for email in EXPECTED_PLACES} == EXPECTED_PLACES


def test_non_exclusive_segments(db: Db) -> None:
    rows = db.rows(
        "select m.segment_family, m.segment, d.email from marts.fct_segment_memberships m "
        "join marts.dim_customers d using (customer_id) "
        "where m.segment_family in ('behaviour', 'crm_tag', 'custom')"
    )
    got: dict[tuple[str, str], set[str]] = {}
    for family, segment, email in rows:
        got.setdefault((family, segment), set()).add(email)
    assert got == EXPECTED_NON_EXCLUSIVE


def test_exclusive_families_follow_dim_customers(db: Db) -> None:
    rows = db.rows(
        "select d.email, m.segment_family, m.segment from marts.fct_segment_memberships m "
        "join marts.dim_customers d using (customer_id) where m.segment_family in ('lifecycle', 'rfm', 'region')"
    )
    got = {(email, family): segment for email, family, segment in rows}
    assert got[("react@x.com", "lifecycle")] == "reactivated"
    assert got[("vip@x.com", "rfm")] == "champions"
    assert ("prospect@x.com", "rfm") not in got, "only buyers have an RFM segment"
    assert got[("cart@x.com", "region")] == "unknown"


def test_suppressed_customers_are_never_emailable(db: Db) -> None:
    rows = db.rows(
        "select count(*) from marts.fct_segment_memberships m join marts.dim_customers d using (customer_id) "
        "where d.is_suppressed and m.is_emailable"
    )
    assert rows == [(0,)]
    assert db.rows("select count(*) from marts.fct_segment_memberships where is_emailable")[0][0] > 0


def test_holdout_groups_follow_the_md5_rule(db: Db) -> None:
    rows = db.rows("select segment_family, segment, customer_id, holdout_group from marts.fct_segment_holdouts")
    assert len(rows) == db.rows("select count(*) from marts.fct_segment_memberships")[0][0]
    for family, segment, cid, group in rows:
        bucket = int(hashlib.md5(f"{family}.{segment}:{cid}".encode()).hexdigest()[:8], 16) % 100
        assert group == ("control" if bucket < 10 else "treatment")


def test_an_earlier_date_recomputes_the_earlier_state(tmp_path_factory: pytest.TempPathFactory) -> None:
    earlier = Db(build(tmp_path_factory.mktemp("earlier"), RAW, EARLIER.isoformat()))
    states = by_email(earlier, "lifecycle_stage, counted_orders, as_of_date")
    # react@ had only its first order (210 days before) on 2026-04-01.
    assert states["react@x.com"] == ("lapsed", 1, EARLIER)
    # sub@ subscribed in June; refund@ ordered in June: neither existed yet.
    assert "sub@x.com" not in states and "refund@x.com" not in states
    # gap179@'s first order was 178 days before: at_risk, not yet reactivated or active.
    assert states["gap179@x.com"] == ("at_risk", 1, EARLIER)


@pytest.mark.parametrize(
    ("predicate", "message"),
    REFUSED_PREDICATES,
)
def test_a_broken_or_unsafe_custom_audience_fails_naming_it(db: Db, tmp_path: Path, predicate: str, message: str) -> None:
    audiences = [{"name": "bad_audience", "description": "A mistake.", "predicate": predicate}]
    variables = json.dumps({"as_of_date": AS_OF.isoformat(), "custom_audiences": audiences})
    result = dbt_in(tmp_path, db.path, ["run", "--select", "int_segment_memberships_grouped", "--vars", variables])
    assert not result.success
    errors = " ".join(str(r.message) for r in result.result.results)
    assert "custom audience 'bad_audience'" in errors and message in errors


@pytest.mark.parametrize(
    "predicate",
    [
        "country_code is distinct from 'US'",
        "extract(year from first_order_date) = 2026",
        "email similar to '[a-z]+@x\\.com'",
        "lower(region) in ('europe', 'north_america') and coalesce(counted_orders, 0) between 1 and 3",
        "case when is_suppressed then false else rfm_segment like 'loyal%' end",
    ],
)
def test_valid_sql_predicates_are_accepted_and_select_what_sql_selects(db: Db, tmp_path: Path, predicate: str) -> None:
    copy = tmp_path / "audience.duckdb"
    shutil.copy(db.path, copy)
    audiences = [{"name": "rule", "description": "A rule a marketer wrote.", "predicate": predicate}]
    variables = json.dumps({"as_of_date": AS_OF.isoformat(), "custom_audiences": audiences})
    result = dbt_in(tmp_path, copy, ["run", "--select", "int_segment_memberships_grouped", "--vars", variables])
    assert result.success, result.exception
    built = Db(copy)
    members = built.rows("select customer_id from marts.fct_segment_memberships where segment_family = 'custom' order by 1")
    expected = built.rows(f"select customer_id from marts.dim_customers where coalesce(({predicate}), false) order by 1")
    assert members == expected
