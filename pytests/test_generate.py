"""The demo data generator: the raw contract, determinism, and the mess it must carry."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest

from audience.generate import generate
from audience.raw_schema import RAW_TABLES
from conftest import Db, dbt_in

AS_OF = dt.date(2026, 6, 30)


def fingerprint(database: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every raw table."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            table: tuple(con.execute(f"select count(*), sum(hash(t)::hugeint) from raw.{table} as t").fetchall()[0])
            for table in RAW_TABLES
        }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("generate") / "audience.duckdb"
    generate(database, profile="demo", as_of_date=AS_OF, seed=7)
    return database


def test_raw_tables_follow_the_contract(demo: Path) -> None:
    with duckdb.connect(str(demo), read_only=True) as con:
        for table, columns in RAW_TABLES.items():
            landed = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            assert landed == columns, table


def test_same_seed_and_date_give_the_same_data(demo: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.duckdb"
    generate(again, profile="demo", as_of_date=AS_OF, seed=7)
    assert fingerprint(again) == fingerprint(demo)
    other = tmp_path / "other.duckdb"
    generate(other, profile="demo", as_of_date=AS_OF, seed=8)
    assert fingerprint(other) != fingerprint(demo)


def test_shapes_are_realistic(demo: Path) -> None:
    db = Db(demo)
    per_buyer = db.rows(
        "select count(*) filter (where n = 1) * 1.0 / count(*), max(n) "
        "from (select customer_id, count(*) as n from raw.shop_orders where customer_id is not null group by 1)"
    )[0]
    assert 0.25 < per_buyer[0] < 0.7, "many one-time buyers"
    assert per_buyer[1] >= 50, "a long tail of frequent buyers"
    types = dict(db.rows("select lower(trim(event_type)), count(*) from raw.email_events group by 1"))
    assert types["send"] > types["open"] > types["click"] > 0
    currencies = db.rows("select count(distinct upper(trim(currency))) from raw.shop_orders")[0][0]
    assert currencies >= 5


def test_business_time_is_before_the_as_of_date_and_loads_follow_it(demo: Path) -> None:
    db = Db(demo)
    latest, loaded = db.rows("select max(occurred_at), max(_loaded_at) from raw.email_events")[0]
    assert latest < dt.datetime(2026, 6, 30) and loaded < dt.datetime(2026, 6, 30)
    late_share = db.rows("select avg(case when occurred_at > _loaded_at then 1.0 else 0 end) from raw.email_events")[0][0]
    assert 0 < late_share < 0.02, "a few future-dated events, most loaded after they happen"


def test_every_reject_reason_and_duplicate_kind_is_planted(demo: Path, tmp_path: Path) -> None:
    result = dbt_in(
        tmp_path,
        demo,
        ["build", "--select", "+dq_rejected_rows +dq_reconciliation", "--exclude-resource-type", "test"],
    )
    assert result.success
    db = Db(demo)
    reasons = {table: set() for table in RAW_TABLES}
    for table, reason in db.rows("select distinct source_table, reason from marts.dq_rejected_rows"):
        reasons[table].add(reason)
    assert reasons == {
        "crm_accounts": {"missing_value"},
        "crm_contacts": {"missing_value", "invalid_email"},
        "crm_contact_tags": {"missing_value", "future_timestamp"},
        "email_campaigns": {"missing_value"},
        "email_events": {"missing_value", "future_timestamp", "unknown_event_type", "invalid_email"},
        "shop_customers": {"missing_value"},
        "shop_orders": {"missing_value", "future_timestamp", "negative_amount", "unknown_currency", "unidentifiable"},
        "shop_order_items": {"missing_value", "negative_amount"},
        "shop_refunds": {"missing_value", "future_timestamp", "negative_amount", "orphan_refund"},
        "shop_checkouts": {"missing_value", "future_timestamp", "negative_amount", "unknown_currency", "unidentifiable"},
    }
    for table, raw, superseded, rejected in db.rows(
        "select source_table, raw_rows, superseded_rows, rejected_rows from marts.dq_reconciliation"
    ):
        assert superseded > 0, f"{table} has versions or re-deliveries"
        assert rejected / raw < 0.10, f"{table}: a few percent of bad rows, not more"


def test_the_planted_campaign_buys_only_in_treatment_of_its_segments(demo: Path) -> None:
    from audience.generate import PLANTED_CAMPAIGN_DAYS, PLANTED_UPLIFT

    start = dt.datetime.combine(AS_OF - dt.timedelta(days=PLANTED_CAMPAIGN_DAYS - 1), dt.time())
    end = dt.datetime.combine(AS_OF - dt.timedelta(days=PLANTED_CAMPAIGN_DAYS - 8), dt.time())
    with duckdb.connect(str(demo), read_only=True) as con:
        planted = con.execute(
            "select lower(trim(email)), ordered_at from raw.shop_orders where order_id like '%-planted'"
        ).fetchall()
    assert len(planted) > 100
    for email, ordered_at in planted:
        customer = hashlib.md5(email.encode()).hexdigest()
        assert int(hashlib.md5(f"global:{customer}".encode()).hexdigest()[:8], 16) % 100 >= 5
        groups = {
            int(hashlib.md5(f"region.{region}:{customer}".encode()).hexdigest()[:8], 16) % 100 >= 10
            for region in PLANTED_UPLIFT
        }
        assert True in groups, "treatment in a planted segment"
        assert ordered_at is None or start <= ordered_at < end + dt.timedelta(days=4), ordered_at
