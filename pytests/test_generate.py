"""The demo data generator: the raw contract, determinism, and the mess it must carry."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest

from audience.generate import CURRENCY_DECIMALS, CURRENCY_RATES, ORDER_COUNT_CAP, SUPPRESSION_LEAK_SHARE, generate
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
    assert 0.25 < per_buyer[0] < 0.75, "many one-time buyers"
    assert per_buyer[1] >= 30, "a long tail of frequent buyers"
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


# The distributions of DECISIONS.md ("Demo data: distributions"), checked on the demo profile.

# Region of the currency an order is charged in (the shop's currency by country).
CURRENCY_REGION = {
    "USD": "north_america", "CAD": "north_america", "EUR": "europe", "GBP": "europe",
    "BRL": "latin_america", "MXN": "latin_america", "ZAR": "middle_east_africa",
    "AUD": "asia_pacific", "JPY": "asia_pacific", "INR": "asia_pacific", "SGD": "asia_pacific",
}
# The latest version of each order, as staging keeps it (null key and bad currency aside).
LATEST_ORDERS = """
    select *, upper(trim(currency)) as code
    from raw.shop_orders
    where order_id is not null
    qualify row_number() over (
        partition by order_id order by updated_at desc nulls last, _loaded_at desc
    ) = 1
"""


def test_the_generator_uses_the_seeds_currency_rates() -> None:
    seed = Path(__file__).parents[1] / "seeds" / "currency_rates.csv"
    with seed.open(newline="") as rows:
        rates = {row["currency_code"]: float(row["rate_to_usd"]) for row in csv.DictReader(rows)}
    assert {code: rates.get(code) for code in CURRENCY_RATES} == CURRENCY_RATES
    assert set(CURRENCY_REGION) == set(CURRENCY_RATES) and set(CURRENCY_DECIMALS) <= set(CURRENCY_RATES)


def test_orders_per_buyer_have_a_realistic_long_tail(demo: Path) -> None:
    # A person's orders carry its number: O<person>-<n> (and O<person>-planted).
    share_1_to_3, mean, p99, most = Db(demo).rows("""
        with per_person as (
            select regexp_extract(order_id, '^O([0-9]+)-', 1) as person, count(distinct order_id) as orders
            from raw.shop_orders
            where order_id is not null
            group by 1
        )
        select avg(case when orders <= 3 then 1.0 else 0 end), avg(orders), quantile_disc(orders, 0.99), max(orders)
        from per_person
    """)[0]
    assert share_1_to_3 >= 0.8, "most buyers place one to three orders"
    assert 1.8 <= mean <= 3.0, mean
    assert 10 <= p99 <= 30, p99
    assert most <= ORDER_COUNT_CAP + 1, "capped (plus one planted order)"


def test_no_day_piles_up_orders(demo: Path) -> None:
    daily = Db(demo).rows(f"""
        select
            cast(ordered_at as date) as day,
            count(distinct order_id) filter (where order_id not like '%-planted') as organic,
            count(distinct order_id) as orders
        from raw.shop_orders
        where ordered_at >= timestamp '{AS_OF - dt.timedelta(days=30)}' and ordered_at < timestamp '{AS_OF}'
        group by 1
    """)
    assert len(daily) == 30
    median = sorted(orders for _, _, orders in daily)[15]
    assert max(organic for _, organic, _ in daily) <= 2 * median, "no artefact on any day (the last included)"
    assert max(orders for _, _, orders in daily) <= 3 * median, "the planted campaign's week is a bump, not a wall"
    exact_ties = Db(demo).rows(
        "select count(*) from (select order_id, updated_at, _loaded_at from raw.shop_orders "
        "group by all having count(*) > 1)"
    )[0][0]
    assert exact_ties == 0, "no order version is landed twice with equal version columns"
    pile = Db(demo).rows("select max(n) from (select _loaded_at, count(*) as n from raw.shop_orders group by 1)")[0][0]
    assert pile <= 3, "no load time shared by a pile of rows (no clamp onto the last sync)"


def test_amounts_are_in_the_orders_currency(demo: Path) -> None:
    db = Db(demo)
    rates = " ".join(f"when '{code}' then {rate}" for code, rate in CURRENCY_RATES.items())
    regions = " ".join(f"when '{code}' then '{region}'" for code, region in CURRENCY_REGION.items())
    aov = dict(db.rows(f"""
        select case code {regions} end, avg(total_amount * case code {rates} end)
        from ({LATEST_ORDERS})
        where total_amount > 0 and code in ({', '.join(repr(code) for code in CURRENCY_RATES)})
        group by 1
    """))
    assert len(aov) == 5 and 40 < min(aov.values()) and max(aov.values()) < 100, aov
    assert max(aov.values()) / min(aov.values()) < 1.5, f"AOV in USD follows value, not currency: {aov}"
    fractional = db.rows("""
        select
            (select count(*) from raw.shop_orders where upper(trim(currency)) = 'JPY'
                and (total_amount <> round(total_amount) or discount_amount <> round(discount_amount))),
            (select count(*) from raw.shop_order_items as i join raw.shop_orders as o using (order_id)
                where upper(trim(o.currency)) = 'JPY' and i.unit_price <> round(i.unit_price)),
            (select count(*) from raw.shop_refunds as r join raw.shop_orders as o using (order_id)
                where upper(trim(o.currency)) = 'JPY' and r.amount <> round(r.amount)),
            (select count(*) from raw.shop_checkouts where upper(trim(currency)) = 'JPY'
                and cart_amount <> round(cart_amount)),
            (select count(*) from raw.shop_orders where upper(trim(currency)) = 'JPY')
    """)[0]
    assert fractional[:4] == (0, 0, 0, 0) and fractional[4] > 100, "yen are whole"
    inconsistent = db.rows(f"""
        select
            count(*) filter (where o.discount_amount > 0 and o.total_amount > 0
                and abs(o.discount_amount / (o.total_amount + o.discount_amount) - 0.15) > 0.01),
            (select count(*) from raw.shop_refunds as r join ({LATEST_ORDERS}) as l using (order_id)
                where r.amount > l.total_amount and l.total_amount >= 0)
        from raw.shop_orders as o
    """)[0]
    assert inconsistent == (0, 0), "discounts are 15 % of the gross; no refund exceeds what was paid"


def test_suppressed_people_get_no_sends_but_a_planted_few(demo: Path) -> None:
    suppressed, leaked = Db(demo).rows("""
        with events as (
            select lower(trim(email)) as email, lower(trim(event_type)) as event_type,
                lower(trim(bounce_type)) as bounce_type, occurred_at
            from raw.email_events
            where occurred_at is not null
        ),
        states as (
            select
                email,
                max(case when event_type in ('unsubscribe', 'complaint') or bounce_type = 'hard'
                    then occurred_at end) as suppressed_at,
                max(case when event_type = 'subscribe' then occurred_at end) as subscribed_at
            from events
            group by 1
        ),
        suppressed as (
            select email, suppressed_at
            from states
            where suppressed_at >= coalesce(subscribed_at, timestamp '0001-01-01')
        )
        select
            count(*),
            count(*) filter (where exists (
                select 1 from events
                where events.email = suppressed.email and events.event_type = 'send'
                    and events.occurred_at > suppressed.suppressed_at
            ))
        from suppressed
    """)[0]
    assert suppressed > 500
    assert 0.5 * SUPPRESSION_LEAK_SHARE <= leaked / suppressed <= 2 * SUPPRESSION_LEAK_SHARE, (leaked, suppressed)
