"""One more day of raw data: appended, landed during that day, deterministic, same contract."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from audience.generate import generate, generate_next_day
from audience.raw_schema import RAW_TABLES
from conftest import Db

AS_OF = dt.date(2026, 6, 30)
DAY_START = dt.datetime(2026, 6, 30)
DAY_END = dt.datetime(2026, 7, 1)
SEED = 42


def fingerprint(database: Path, where: str = "true") -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of the matching rows of every raw table."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            table: tuple(
                con.execute(f"select count(*), sum(hash(t)::hugeint) from raw.{table} as t where {where}").fetchall()[0]
            )
            for table in RAW_TABLES
        }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("history") / "audience.duckdb"
    generate(database, profile="S", as_of_date=AS_OF, seed=SEED)
    return database


@pytest.fixture(scope="module")
def appended(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    database = tmp_path_factory.mktemp("next_day") / "audience.duckdb"
    shutil.copy(generated, database)
    return database, generate_next_day(database, "S", AS_OF, seed=SEED)


def test_every_table_gets_rows_and_history_is_untouched(generated: Path, appended: tuple[Path, dict[str, int]]) -> None:
    database, counts = appended
    assert set(counts) == set(RAW_TABLES)
    assert all(rows > 0 for rows in counts.values()), counts
    after = fingerprint(database)
    before = fingerprint(generated)
    assert {table: after[table][0] - before[table][0] for table in RAW_TABLES} == counts
    assert fingerprint(database, f"_loaded_at < timestamp '{DAY_START}'") == before


def test_appended_rows_land_during_the_new_day(generated: Path, appended: tuple[Path, dict[str, int]]) -> None:
    database, counts = appended
    db = Db(database)
    for table in RAW_TABLES:
        in_day, last = db.rows(
            f"select count(*), max(_loaded_at) from raw.{table} "
            f"where _loaded_at >= timestamp '{DAY_START}' and _loaded_at < timestamp '{DAY_END}'"
        )[0]
        assert in_day == counts[table], f"{table}: every appended row is loaded during {AS_OF}"
        assert last >= DAY_END - dt.timedelta(hours=2), f"{table}: the day's last sync keeps it fresh"
    assert db.rows(f"select count(*) from raw.shop_orders where _loaded_at >= timestamp '{DAY_END}'")[0][0] == 0


def test_the_day_carries_new_customers_versions_refunds_and_late_rows(appended: tuple[Path, dict[str, int]]) -> None:
    db = Db(appended[0])
    today = f"_loaded_at >= timestamp '{DAY_START}'"
    before = f"_loaded_at < timestamp '{DAY_START}'"
    types = dict(db.rows(f"select lower(trim(event_type)), count(*) from raw.email_events where {today} group by 1"))
    assert types["send"] > types["open"] > 0
    assert types["subscribe"] > 0 and types["unsubscribe"] > 0
    new_contacts = db.rows(
        f"select count(*) from raw.crm_contacts where {today} and created_at >= timestamp '{DAY_START}' "
        f"and contact_id not in (select contact_id from raw.crm_contacts where {before} and contact_id is not null)"
    )[0][0]
    assert new_contacts > 0, "sign-ups of the day reach the CRM"
    new_versions = db.rows(
        f"select count(*) from raw.shop_orders as n where {today} and n.updated_at >= timestamp '{DAY_START}' "
        f"and n.order_id in (select order_id from raw.shop_orders where {before})"
    )[0][0]
    assert new_versions > 0, "orders placed earlier get a new version today"
    refunds = db.rows(
        f"select count(*) from raw.shop_refunds where {today} and refunded_at >= timestamp '{DAY_START}' "
        f"and order_id in (select order_id from raw.shop_orders where {before})"
    )[0][0]
    assert refunds > 0, "orders placed earlier are refunded today"
    late = db.rows(
        f"select (select count(*) from raw.email_events where {today} and occurred_at < timestamp '{DAY_START}'), "
        f"(select count(*) from raw.shop_orders where {today} and ordered_at < timestamp '{DAY_START}' "
        f"and order_id not in (select order_id from raw.shop_orders where {before} and order_id is not null))"
    )[0]
    assert late[0] > 0 and late[1] > 0, "a few events and orders of earlier days arrive late"


def test_raw_tables_still_follow_the_contract(appended: tuple[Path, dict[str, int]]) -> None:
    with duckdb.connect(str(appended[0]), read_only=True) as con:
        for table, columns in RAW_TABLES.items():
            landed = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            assert landed == columns, table
        schemas = con.execute("select distinct table_schema from information_schema.tables").fetchall()
    assert schemas == [("raw",)], "no stage tables left behind"


def test_same_seed_gives_the_same_day(generated: Path, appended: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    again = tmp_path / "again.duckdb"
    shutil.copy(generated, again)
    generate_next_day(again, "S", AS_OF, seed=SEED)
    assert fingerprint(again) == fingerprint(appended[0])
    other = tmp_path / "other.duckdb"
    shutil.copy(generated, other)
    generate_next_day(other, "S", AS_OF, seed=SEED + 1)
    assert fingerprint(other) != fingerprint(appended[0])


def test_days_chain_and_a_day_is_appended_once(appended: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    database = tmp_path / "chain.duckdb"
    shutil.copy(appended[0], database)
    with pytest.raises(ValueError, match="not after"):
        generate_next_day(database, "S", AS_OF, seed=SEED)
    counts = generate_next_day(database, "S", AS_OF + dt.timedelta(days=1), seed=SEED)
    assert counts["shop_orders"] > 0
    repeated = Db(database).rows(
        "select count(*) from raw.email_events as second_day join raw.email_events as first_day using (event_id) "
        f"where second_day._loaded_at >= timestamp '{DAY_END}' and first_day._loaded_at >= timestamp '{DAY_START}' "
        f"and first_day._loaded_at < timestamp '{DAY_END}'"
    )[0][0]
    assert repeated == 0, "the second day makes new ids"


def test_the_day_follows_the_historys_distributions(appended: tuple[Path, dict[str, int]]) -> None:
    from audience.generate import SUPPRESSION_LEAK_SHARE

    db = Db(appended[0])
    today = f"_loaded_at >= timestamp '{DAY_START}'"
    daily = [
        orders
        for (orders,) in db.rows(
            f"select count(distinct order_id) from raw.shop_orders where _loaded_at < timestamp '{DAY_START}' "
            f"and ordered_at >= timestamp '{DAY_START - dt.timedelta(days=30)}' and order_id not like '%-planted' "
            "group by cast(ordered_at as date)"
        )
    ]
    placed_today = db.rows(
        f"select count(distinct order_id) from raw.shop_orders where {today} and ordered_at >= timestamp '{DAY_START}'"
    )[0][0]
    median = sorted(daily)[len(daily) // 2]
    assert 0 < placed_today <= 2 * median + 3, (placed_today, median)
    fractional, over_refunded = db.rows(f"""
        select
            (select count(*) from raw.shop_orders where {today} and upper(trim(currency)) = 'JPY'
                and total_amount <> round(total_amount)),
            (select count(*) from raw.shop_refunds as r join raw.shop_orders as o using (order_id)
                where r.{today} and r.amount > o.total_amount and o.total_amount >= 0)
    """)[0]
    assert (fractional, over_refunded) == (0, 0), "yen are whole; no refund exceeds what was paid"
    suppressed, sent = db.rows(f"""
        with states as (
            select
                lower(trim(email)) as email,
                max(case when lower(trim(event_type)) in ('unsubscribe', 'complaint')
                    or lower(trim(bounce_type)) = 'hard' then occurred_at end) as suppressed_at,
                max(case when lower(trim(event_type)) = 'subscribe' then occurred_at end) as subscribed_at
            from raw.email_events
            where occurred_at < timestamp '{DAY_START}'
            group by 1
        )
        select
            count(*),
            count(*) filter (where email in (
                select lower(trim(email)) from raw.email_events
                where {today} and lower(trim(event_type)) = 'send'
            ))
        from states
        where suppressed_at >= coalesce(subscribed_at, timestamp '0001-01-01')
    """)[0]
    assert suppressed > 50 and sent <= 2 * SUPPRESSION_LEAK_SHARE * suppressed, (sent, suppressed)
