"""SPEC section 2 on a hand-made raw fixture: deduplication, validation, reject precedence,
email normalisation, reconciliation. Every expected value below is written by hand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import Db, Rows, build, dbt_in, ts

AS_OF = "2026-06-30"
LOADED = ts("2026-06-01 12:00")
BEFORE = ts("2026-06-01 10:00")
AFTER = ts("2026-06-02 10:00")

RAW: Rows = {
    "crm_accounts": [
        # A1: two versions, the later updated_at wins.
        {"account_id": "A1", "account_name": "old", "updated_at": ts("2026-01-01 00:00"), "_loaded_at": ts("2026-01-02 00:00")},
        {"account_id": "A1", "account_name": "new", "updated_at": ts("2026-03-01 00:00"), "_loaded_at": ts("2026-03-02 00:00")},
        # A2: a null updated_at counts as oldest, even when loaded later.
        {"account_id": "A2", "account_name": "null-updated", "updated_at": None, "_loaded_at": ts("2026-05-01 00:00")},
        {"account_id": "A2", "account_name": "dated", "updated_at": ts("2026-02-01 00:00"), "_loaded_at": ts("2026-02-02 00:00")},
        # A3: same updated_at, the later _loaded_at wins.
        {"account_id": "A3", "account_name": "first-load", "updated_at": ts("2026-02-01 00:00"), "_loaded_at": ts("2026-02-02 00:00")},
        {"account_id": "A3", "account_name": "second-load", "updated_at": ts("2026-02-01 00:00"), "_loaded_at": ts("2026-02-03 00:00")},
        # A4: an exact tie for survivor (same updated_at and _loaded_at); one is kept, with a warning.
        {"account_id": "A4", "account_name": "tie", "updated_at": BEFORE, "_loaded_at": LOADED},
        {"account_id": "A4", "account_name": "tie", "updated_at": BEFORE, "_loaded_at": LOADED},
        # Two rows without a key: each is rejected, neither supersedes the other.
        {"account_id": None, "account_name": "no key 1", "_loaded_at": LOADED},
        {"account_id": None, "account_name": "no key 2", "_loaded_at": LOADED},
    ],
    "crm_contacts": [
        {"contact_id": "C1", "email": "  Alice@Example.COM ", "is_deleted": False, "updated_at": BEFORE, "_loaded_at": LOADED},
        {"contact_id": "C2", "email": "bob at example.com", "updated_at": BEFORE, "_loaded_at": LOADED},
        {"contact_id": "C3", "email": None, "updated_at": BEFORE, "_loaded_at": LOADED},
        # Null key and invalid email: missing_value wins.
        {"contact_id": None, "email": "nope", "updated_at": BEFORE, "_loaded_at": LOADED},
        # C5: the latest version is invalid; no fall back to the valid older one.
        {"contact_id": "C5", "email": "carol@example.com", "updated_at": ts("2026-01-01 00:00"), "_loaded_at": ts("2026-01-01 01:00")},
        {"contact_id": "C5", "email": "carol@example", "updated_at": ts("2026-02-01 00:00"), "_loaded_at": ts("2026-02-01 01:00")},
        # Deleted contacts are kept (and flagged).
        {"contact_id": "C6", "email": "dave@example.com", "is_deleted": True, "updated_at": BEFORE, "_loaded_at": LOADED},
        {"contact_id": "C7", "email": "a b@example.com", "updated_at": BEFORE, "_loaded_at": LOADED},
        {"contact_id": "C8", "email": "x@@example.com", "updated_at": BEFORE, "_loaded_at": LOADED},
        {"contact_id": "C9", "email": "E@X.IO", "is_deleted": None, "updated_at": BEFORE, "_loaded_at": LOADED},
    ],
    "crm_contact_tags": [
        # Re-delivery: the earliest _loaded_at is kept, whatever the order of arrival.
        {"contact_id": "C1", "tag": "VIP", "tagged_at": BEFORE, "_loaded_at": ts("2026-06-02 00:00")},
        {"contact_id": "C1", "tag": "VIP", "tagged_at": BEFORE, "_loaded_at": LOADED},
        # The key is taken as landed: 'vip ' is another tag row.
        {"contact_id": "C1", "tag": "vip ", "tagged_at": BEFORE, "_loaded_at": LOADED},
        {"contact_id": "C1", "tag": None, "tagged_at": BEFORE, "_loaded_at": LOADED},
        {"contact_id": "C1", "tag": "Future", "tagged_at": AFTER, "_loaded_at": LOADED},
        {"contact_id": "C1", "tag": "NoTime", "tagged_at": None, "_loaded_at": LOADED},
        # An orphan tag is kept; it simply contributes nothing.
        {"contact_id": "CX", "tag": "Orphan", "tagged_at": BEFORE, "_loaded_at": LOADED},
    ],
    "email_campaigns": [
        {"campaign_id": "K1", "campaign_type": " Promotion ", "sent_at": BEFORE, "_loaded_at": ts("2026-06-03 00:00")},
        {"campaign_id": "K1", "campaign_type": "promotion", "sent_at": BEFORE, "_loaded_at": LOADED},
        {"campaign_id": None, "campaign_type": "newsletter", "sent_at": BEFORE, "_loaded_at": LOADED},
    ],
    "email_events": [
        {"event_id": "E1", "campaign_id": "K1", "email": "alice@example.com", "event_type": "send", "occurred_at": BEFORE, "_loaded_at": ts("2026-06-05 00:00")},
        {"event_id": "E1", "campaign_id": "K1", "email": "ALICE@example.com", "event_type": "send", "occurred_at": BEFORE, "_loaded_at": LOADED},
        # missing_value beats unknown_event_type.
        {"event_id": "E2", "email": "alice@example.com", "event_type": "bogus", "occurred_at": None, "_loaded_at": LOADED},
        # future_timestamp beats unknown_event_type.
        {"event_id": "E3", "email": "alice@example.com", "event_type": "bogus", "occurred_at": AFTER, "_loaded_at": LOADED},
        # unknown_event_type beats invalid_email.
        {"event_id": "E4", "email": "not-an-email", "event_type": "bogus", "occurred_at": BEFORE, "_loaded_at": LOADED},
        {"event_id": "E5", "campaign_id": "K1", "email": " Alice@Example.com", "event_type": " OPEN ", "occurred_at": BEFORE, "_loaded_at": LOADED},
        {"event_id": "E6", "email": "alice(at)example.com", "event_type": "click", "occurred_at": BEFORE, "_loaded_at": LOADED},
        {"event_id": "E7", "email": "alice@example.com", "event_type": None, "occurred_at": BEFORE, "_loaded_at": LOADED},
        # An event of an unknown campaign is kept.
        {"event_id": "E8", "campaign_id": "K-missing", "email": "alice@example.com", "event_type": "click", "occurred_at": BEFORE, "_loaded_at": LOADED},
        {"event_id": None, "email": "alice@example.com", "event_type": "send", "occurred_at": BEFORE, "_loaded_at": LOADED},
        {"event_id": "E9", "email": "bob@example.com", "event_type": "Bounce", "bounce_type": " HARD", "occurred_at": BEFORE, "_loaded_at": LOADED},
        # E10: two copies landed at the same time tie for survivor (a warning).
        {"event_id": "E10", "email": "alice@example.com", "event_type": "subscribe", "occurred_at": BEFORE, "_loaded_at": LOADED},
        {"event_id": "E10", "email": "alice@example.com", "event_type": "subscribe", "occurred_at": BEFORE, "_loaded_at": LOADED},
        # E11: two later copies are equal to each other, but the earliest copy is alone: no tie.
        {"event_id": "E11", "email": "alice@example.com", "event_type": "subscribe", "occurred_at": BEFORE, "_loaded_at": LOADED},
        {"event_id": "E11", "email": "alice@example.com", "event_type": "subscribe", "occurred_at": BEFORE, "_loaded_at": AFTER},
        {"event_id": "E11", "email": "alice@example.com", "event_type": "subscribe", "occurred_at": BEFORE, "_loaded_at": AFTER},
    ],
    "shop_customers": [
        {"customer_id": "S1", "email": "not valid", "updated_at": ts("2026-01-01 00:00"), "_loaded_at": ts("2026-01-01 01:00")},
        {"customer_id": "S1", "email": " Erin@Shop.com", "updated_at": ts("2026-02-01 00:00"), "_loaded_at": ts("2026-02-01 01:00")},
        # A shop customer with an invalid email is kept, but identifies nothing.
        {"customer_id": "S2", "email": "nope", "updated_at": BEFORE, "_loaded_at": LOADED},
        {"customer_id": None, "email": "ghost@shop.com", "updated_at": BEFORE, "_loaded_at": LOADED},
        # S4: the newest load has a null updated_at, so the dated version wins.
        {"customer_id": "S4", "email": "frank@shop.com", "updated_at": ts("2026-03-01 00:00"), "_loaded_at": ts("2026-03-01 01:00")},
        {"customer_id": "S4", "email": "frank-new@shop.com", "updated_at": None, "_loaded_at": ts("2026-04-01 01:00")},
    ],
    "shop_orders": [
        {"order_id": "O1", "email": "erin@shop.com", "status": "completed", "currency": " usd ", "total_amount": 10, "discount_amount": 0, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
        {"order_id": "O2", "email": "erin@shop.com", "status": "pending", "currency": "EUR", "total_amount": 20, "discount_amount": 0, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
        {"order_id": "O2", "email": "erin@shop.com", "status": " Completed", "currency": "EUR", "total_amount": 20, "discount_amount": 0, "ordered_at": BEFORE, "updated_at": AFTER, "_loaded_at": ts("2026-06-02 12:00")},
        # Guest email missing, but the shop customer has a valid email.
        {"order_id": "O3", "customer_id": "S1", "email": None, "status": "completed", "currency": "USD", "total_amount": 5, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
        # Invalid own email and a shop customer whose email is invalid too.
        {"order_id": "O4", "customer_id": "S2", "email": "x", "status": "completed", "currency": "USD", "total_amount": 5, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
        {"order_id": "O5", "customer_id": None, "email": None, "status": "completed", "currency": "USD", "total_amount": 5, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
        # negative_amount beats unknown_currency.
        {"order_id": "O6", "email": "erin@shop.com", "status": "completed", "currency": "XXX", "total_amount": -5, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
        # unknown_currency beats unidentifiable.
        {"order_id": "O7", "email": "bad", "status": "completed", "currency": "XXX", "total_amount": 5, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
        # future_timestamp beats negative_amount.
        {"order_id": "O8", "email": "erin@shop.com", "status": "completed", "currency": "USD", "total_amount": -5, "ordered_at": AFTER, "updated_at": AFTER, "_loaded_at": LOADED},
        {"order_id": "O9", "email": "erin@shop.com", "status": "completed", "currency": "USD", "total_amount": 5, "ordered_at": None, "updated_at": BEFORE, "_loaded_at": LOADED},
        # O10: the latest version has a negative discount; the older one is not used.
        {"order_id": "O10", "email": "erin@shop.com", "status": "completed", "currency": "USD", "total_amount": 5, "discount_amount": 1, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
        {"order_id": "O10", "email": "erin@shop.com", "status": "completed", "currency": "USD", "total_amount": 5, "discount_amount": -1, "ordered_at": BEFORE, "updated_at": AFTER, "_loaded_at": ts("2026-06-02 12:00")},
        # A shop customer id that no kept shop customer has.
        {"order_id": "O11", "customer_id": "S-unknown", "email": "bad", "status": "completed", "currency": "USD", "total_amount": 5, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
        # An invalid own email with a shop customer that has a valid one: kept.
        {"order_id": "O12", "customer_id": "S1", "email": "bad", "status": "completed", "currency": "gbp", "total_amount": 5, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
        {"order_id": "O13", "email": "erin@shop.com", "status": "completed", "currency": None, "total_amount": 5, "ordered_at": BEFORE, "updated_at": BEFORE, "_loaded_at": LOADED},
    ],
    "shop_order_items": [
        {"order_item_id": "I1", "order_id": "O1", "quantity": 1, "unit_price": 10, "_loaded_at": LOADED},
        {"order_item_id": "I1", "order_id": "O1", "quantity": 1, "unit_price": 10, "_loaded_at": ts("2026-06-03 00:00")},
        {"order_item_id": "I2", "order_id": "O1", "quantity": -1, "unit_price": 10, "_loaded_at": LOADED},
        {"order_item_id": None, "order_id": "O1", "quantity": 1, "unit_price": 10, "_loaded_at": LOADED},
        {"order_item_id": "I4", "order_id": "O-none", "quantity": 1, "unit_price": -3, "_loaded_at": LOADED},
        {"order_item_id": "I5", "order_id": "O-none", "quantity": 2, "unit_price": 3, "_loaded_at": LOADED},
    ],
    "shop_refunds": [
        {"refund_id": "R1", "order_id": "O1", "amount": 2, "refunded_at": BEFORE, "_loaded_at": LOADED},
        # A refund of a rejected order, and of an order that does not exist.
        {"refund_id": "R2", "order_id": "O5", "amount": 2, "refunded_at": BEFORE, "_loaded_at": LOADED},
        {"refund_id": "R3", "order_id": "O-none", "amount": 2, "refunded_at": BEFORE, "_loaded_at": LOADED},
        # negative_amount beats orphan_refund.
        {"refund_id": "R4", "order_id": "O-none", "amount": -2, "refunded_at": BEFORE, "_loaded_at": LOADED},
        {"refund_id": "R5", "order_id": "O1", "amount": 2, "refunded_at": AFTER, "_loaded_at": LOADED},
        {"refund_id": "R6", "order_id": "O2", "amount": 2, "refunded_at": BEFORE, "_loaded_at": LOADED},
        {"refund_id": "R7", "order_id": "O10", "amount": 2, "refunded_at": BEFORE, "_loaded_at": LOADED},
        {"refund_id": "R7", "order_id": "O10", "amount": 2, "refunded_at": BEFORE, "_loaded_at": ts("2026-06-04 00:00")},
        {"refund_id": "R8", "order_id": None, "amount": 2, "refunded_at": BEFORE, "_loaded_at": LOADED},
    ],
    "shop_checkouts": [
        {"checkout_id": "K1", "email": "erin@shop.com", "currency": "eur", "cart_amount": 10, "created_at": BEFORE, "_loaded_at": LOADED},
        {"checkout_id": "K2", "customer_id": "S1", "email": None, "currency": "EUR", "cart_amount": 10, "created_at": BEFORE, "_loaded_at": LOADED},
        {"checkout_id": "K3", "customer_id": None, "email": None, "currency": "EUR", "cart_amount": 10, "created_at": BEFORE, "_loaded_at": LOADED},
        {"checkout_id": "K4", "email": "erin@shop.com", "currency": "ZZZ", "cart_amount": -10, "created_at": BEFORE, "_loaded_at": LOADED},
        {"checkout_id": "K5", "email": "erin@shop.com", "currency": "ZZZ", "cart_amount": 10, "created_at": BEFORE, "_loaded_at": LOADED},
        {"checkout_id": "K6", "email": "erin@shop.com", "currency": "EUR", "cart_amount": 10, "created_at": None, "_loaded_at": LOADED},
        {"checkout_id": "K7", "email": "erin@shop.com", "currency": "EUR", "cart_amount": 10, "created_at": AFTER, "_loaded_at": LOADED},
        {"checkout_id": "K7", "email": "erin@shop.com", "currency": "EUR", "cart_amount": 10, "created_at": BEFORE, "_loaded_at": ts("2026-06-05 00:00")},
    ],
}

EXPECTED_REJECTS = {
    ("crm_accounts", None, "missing_value"),
    ("crm_contacts", "C2", "invalid_email"),
    ("crm_contacts", "C3", "invalid_email"),
    ("crm_contacts", None, "missing_value"),
    ("crm_contacts", "C5", "invalid_email"),
    ("crm_contacts", "C7", "invalid_email"),
    ("crm_contacts", "C8", "invalid_email"),
    ("crm_contact_tags", None, "missing_value"),
    ("crm_contact_tags", "C1:Future", "future_timestamp"),
    ("crm_contact_tags", "C1:NoTime", "missing_value"),
    ("email_campaigns", None, "missing_value"),
    ("email_events", "E2", "missing_value"),
    ("email_events", "E3", "future_timestamp"),
    ("email_events", "E4", "unknown_event_type"),
    ("email_events", "E6", "invalid_email"),
    ("email_events", "E7", "unknown_event_type"),
    ("email_events", None, "missing_value"),
    ("shop_customers", None, "missing_value"),
    ("shop_orders", "O4", "unidentifiable"),
    ("shop_orders", "O5", "unidentifiable"),
    ("shop_orders", "O6", "negative_amount"),
    ("shop_orders", "O7", "unknown_currency"),
    ("shop_orders", "O8", "future_timestamp"),
    ("shop_orders", "O9", "missing_value"),
    ("shop_orders", "O10", "negative_amount"),
    ("shop_orders", "O11", "unidentifiable"),
    ("shop_orders", "O13", "unknown_currency"),
    ("shop_order_items", "I2", "negative_amount"),
    ("shop_order_items", None, "missing_value"),
    ("shop_order_items", "I4", "negative_amount"),
    ("shop_refunds", "R2", "orphan_refund"),
    ("shop_refunds", "R3", "orphan_refund"),
    ("shop_refunds", "R4", "negative_amount"),
    ("shop_refunds", "R5", "future_timestamp"),
    ("shop_refunds", "R7", "orphan_refund"),
    ("shop_refunds", "R8", "orphan_refund"),
    ("shop_checkouts", "K3", "unidentifiable"),
    ("shop_checkouts", "K4", "negative_amount"),
    ("shop_checkouts", "K5", "unknown_currency"),
    ("shop_checkouts", "K6", "missing_value"),
    ("shop_checkouts", "K7", "future_timestamp"),
}

# (raw, kept, superseded, rejected) per raw table.
EXPECTED_RECONCILIATION = {
    "crm_accounts": (10, 4, 4, 2),
    "crm_contacts": (10, 3, 1, 6),
    "crm_contact_tags": (7, 3, 1, 3),
    "email_campaigns": (3, 1, 1, 1),
    "email_events": (16, 6, 4, 6),
    "shop_customers": (6, 3, 2, 1),
    "shop_orders": (15, 4, 2, 9),
    "shop_order_items": (6, 2, 1, 3),
    "shop_refunds": (9, 2, 1, 6),
    "shop_checkouts": (8, 2, 1, 5),
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Db:
    return Db(build(tmp_path_factory.mktemp("staging"), RAW, AS_OF))


def test_rejected_rows_are_exactly_the_planted_ones(db: Db) -> None:
    rows = db.rows("select source_table, source_key, reason from marts.dq_rejected_rows")
    # Two rows share a null key in crm_accounts: both listed, the set hides the repeat.
    assert len(rows) == len(EXPECTED_REJECTS) + 1
    assert set(rows) == EXPECTED_REJECTS


def test_both_keyless_accounts_are_rejected(db: Db) -> None:
    rows = db.rows("select reason from marts.dq_rejected_rows where source_table = 'crm_accounts'")
    assert rows == [("missing_value",), ("missing_value",)]


def test_reconciliation_counts(db: Db) -> None:
    rows = db.rows(
        "select source_table, raw_rows, kept_rows, superseded_rows, rejected_rows from marts.dq_reconciliation"
    )
    assert {table: tuple(counts) for table, *counts in rows} == EXPECTED_RECONCILIATION


def test_entity_versions_keep_latest_updated_then_latest_loaded(db: Db) -> None:
    rows = db.rows("select account_id, account_name from staging.stg_crm__accounts order by account_id")
    assert rows == [("A1", "new"), ("A2", "dated"), ("A3", "second-load"), ("A4", "tie")]
    assert db.rows("select email from staging.stg_shop__customers where customer_id = 'S4'") == [("frank@shop.com",)]
    assert db.rows("select status from staging.stg_shop__orders where order_id = 'O2'") == [("completed",)]


def test_redeliveries_keep_the_earliest_load(db: Db) -> None:
    assert db.rows("select _loaded_at, email from staging.stg_email__events where event_id = 'E1'") == [
        (LOADED, "alice@example.com")
    ]
    assert db.rows("select _loaded_at, campaign_type from staging.stg_email__campaigns") == [(LOADED, "promotion")]
    assert db.rows("select _loaded_at from staging.stg_crm__contact_tags where tag = 'VIP'") == [(LOADED,)]


def test_a_redelivered_row_is_judged_on_its_earliest_copy(db: Db) -> None:
    # K7's first copy is future-dated; the later, valid copy is only a re-delivery.
    statuses = db.rows(
        "select created_at, dq_status from staging.base_shop__checkouts where checkout_id = 'K7' order by _loaded_at"
    )
    assert statuses == [(AFTER, "rejected"), (BEFORE, "superseded")]


def test_email_and_codes_are_normalised(db: Db) -> None:
    contacts = db.rows("select contact_id, email, is_deleted from staging.stg_crm__contacts order by contact_id")
    assert contacts == [("C1", "alice@example.com", False), ("C6", "dave@example.com", True), ("C9", "e@x.io", False)]
    events = db.rows("select event_id, event_type, bounce_type, email from staging.stg_email__events order by event_id")
    assert events == [
        ("E1", "send", None, "alice@example.com"),
        ("E10", "subscribe", None, "alice@example.com"),
        ("E11", "subscribe", None, "alice@example.com"),
        ("E5", "open", None, "alice@example.com"),
        ("E8", "click", None, "alice@example.com"),
        ("E9", "bounce", "hard", "bob@example.com"),
    ]
    orders = db.rows("select order_id, currency_code, has_valid_email from staging.stg_shop__orders order by order_id")
    assert orders == [("O1", "USD", True), ("O12", "GBP", False), ("O2", "EUR", True), ("O3", "USD", False)]


def test_orders_and_checkouts_are_identified_once_in_staging(db: Db) -> None:
    """Own valid email first, else the kept shop customer's (S1's latest version)."""
    orders = db.rows("select order_id, email, identified_email from staging.stg_shop__orders order by order_id")
    assert orders == [
        ("O1", "erin@shop.com", "erin@shop.com"),
        ("O12", "bad", "erin@shop.com"),
        ("O2", "erin@shop.com", "erin@shop.com"),
        ("O3", None, "erin@shop.com"),
    ]
    checkouts = db.rows("select checkout_id, identified_email from staging.stg_shop__checkouts order by 1")
    assert checkouts == [("K1", "erin@shop.com"), ("K2", "erin@shop.com")]


def test_base_models_apply_their_own_tables_rules_only(db: Db) -> None:
    """Unidentifiable orders and checkouts and orphan refunds pass their base model; the
    cross-table model rejects them. No other base model reads a model (seeds aside)."""
    assert db.rows("select dq_status from staging.base_shop__orders where order_id = 'O4'") == [("kept",)]
    assert db.rows("select dq_status from staging.base_shop__refunds where refund_id = 'R2'") == [("kept",)]
    cross_rejected = db.rows(
        "select source_table, dq_source_key, dq_reject_reason from staging.base_shop__cross_checked "
        "where dq_status = 'rejected'"
    )
    assert set(cross_rejected) == {
        (table, key, reason) for table, key, reason in EXPECTED_REJECTS if reason in ("unidentifiable", "orphan_refund")
    }
    nodes = json.loads((db.path.parent / "target" / "manifest.json").read_text())["nodes"]
    base_parents = {
        node["name"]: {parent.split(".")[0] for parent in node["depends_on"]["nodes"]}
        for node in nodes.values()
        if node["resource_type"] == "model" and node["name"].startswith("base_")
    }
    assert base_parents.pop("base_shop__cross_checked") == {"model"}
    assert len(base_parents) == len(EXPECTED_RECONCILIATION)
    assert all(parents <= {"source", "seed"} for parents in base_parents.values()), base_parents


def test_exact_ties_for_survivor_warn_on_their_tables_only(db: Db) -> None:
    """survivor_is_unambiguous finds A4 and E10, not E11, whose equal copies lose anyway."""
    target = db.path.parent / "target"
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    results = json.loads((target / "run_results.json").read_text())["results"]
    outcomes = {
        # The test's one parent is the raw table's base model: model.audience.base_<source>__<table>.
        nodes[result["unique_id"]]["depends_on"]["nodes"][0].split(".")[-1]: (result["status"], result["failures"])
        for result in results
        if nodes.get(result["unique_id"], {}).get("test_metadata", {}).get("name") == "survivor_is_unambiguous"
    }
    assert len(outcomes) == len(EXPECTED_RECONCILIATION)
    assert outcomes.pop("base_crm__accounts") == ("warn", 1)
    assert outcomes.pop("base_email__events") == ("warn", 1)
    assert set(outcomes.values()) == {("pass", 0)}


def test_valid_email_test_returns_each_bad_address_once(db: Db, tmp_path: Path) -> None:
    """The valid_email test (on the compact table of email customers, one row per address of a
    kept event) fails on an unnormalised and an invalid address, once each."""
    database = tmp_path / "audience.duckdb"
    shutil.copy(db.path, database)
    summarised = "intermediate.int_email_customers_summarised"
    with duckdb.connect(str(database)) as con:
        con.execute(f"alter table {summarised} rename to int_email_customers_summarised_as_built")
        con.execute(
            f"create view {summarised} as"
            " with broken as (select * replace ("
            " case when email = 'alice@example.com' then ' Alice@Example.com' else 'alice(at)example.com' end as email)"
            " from intermediate.int_email_customers_summarised_as_built)"
            " select * from broken union all select * from broken where email = ' Alice@Example.com'"
        )
    selector = ["--select", "int_email_customers_summarised,test_name:valid_email", "--vars", json.dumps({"as_of_date": AS_OF})]
    result = dbt_in(tmp_path, database, ["test", *selector])
    assert not result.success
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    tests = [result for result in results if result["unique_id"].startswith("test.")]
    assert [(test["status"], test["failures"]) for test in tests] == [("fail", 2)]


def test_orphans_are_kept(db: Db) -> None:
    assert db.rows("select order_item_id from staging.stg_shop__order_items order by 1") == [("I1",), ("I5",)]
    assert db.rows("select contact_id from staging.stg_crm__contact_tags where tag = 'Orphan'") == [("CX",)]


def test_tag_keys_are_taken_as_landed(db: Db) -> None:
    tags = db.rows("select tag from staging.stg_crm__contact_tags where contact_id = 'C1' order by tag")
    assert tags == [("VIP",), ("vip ",)]


def test_every_raw_row_has_one_status(db: Db) -> None:
    for table, base in [("shop_orders", "base_shop__orders"), ("email_events", "base_email__events")]:
        raw = db.rows(f"select count(*) from raw.{table}")[0][0]
        statuses = db.rows(f"select dq_status, count(*) from staging.{base} group by 1")
        assert sum(count for _, count in statuses) == raw


def test_empty_raw_tables_build_with_every_error_test_passing(tmp_path: Path) -> None:
    database = build(tmp_path, {}, AS_OF)
    db = Db(database)
    assert db.rows("select count(*) from marts.dim_customers") == [(0,)]
    assert db.rows("select sum(raw_rows) from marts.dq_reconciliation") == [(0,)]


def test_history_tests_check_the_date_the_run_writes(db: Db, tmp_path: Path) -> None:
    """The history's uniqueness test reads its as-of date only (__as_of_date__ in its where):
    a repeated row on another date, written and tested by an earlier run, is not read again;
    the same row repeated on the as-of date fails it."""
    database = tmp_path / "audience.duckdb"
    shutil.copy(db.path, database)
    history = "marts.fct_segment_membership_history"
    selector = [
        "--select",
        "fct_segment_membership_history,test_name:unique_combination_of_columns",
        "--vars",
        json.dumps({"as_of_date": AS_OF}),
    ]
    with duckdb.connect(str(database)) as con:
        con.execute(f"create table earlier as select * replace (date '2026-06-01' as as_of_date) from {history} limit 1")
        con.execute(f"insert into {history} select * from earlier")
        con.execute(f"insert into {history} select * from earlier")
    assert dbt_in(tmp_path, database, ["test", *selector]).success
    with duckdb.connect(str(database)) as con:
        con.execute(f"insert into {history} select * from {history} where as_of_date = date '{AS_OF}' limit 1")
    assert not dbt_in(tmp_path, database, ["test", *selector]).success
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert [(result["status"], result["failures"]) for result in results if result["unique_id"].startswith("test.")] == [
        ("fail", 1)
    ]
