"""Sources a team can point at: the vars <source>_database and <source>_schema place the
raw tables for dbt and for the tooling alike; docs/raw_tables.md lists the contract."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from audience.cli import main
from audience.export import EXPORT_DIR_ENV
from audience.generate import generate
from audience.project import DATABASE_ENV, PROJECT_DIR, PUBLISHED_ENV
from audience.raw_schema import RAW_TABLES, Location, raw_locations

TODAY = dt.datetime.now(dt.UTC).date()
SHOP_ELSEWHERE = {"shop_schema": "fivetran_shop"}


def test_the_vars_place_each_source() -> None:
    assert set(raw_locations().values()) == {Location(None, "raw")}
    placed = raw_locations({"shop_schema": "fivetran_shop", "crm_database": "lake", "crm_schema": "hubspot"})
    assert placed["shop_orders"].relation("shop_orders") == "fivetran_shop.shop_orders"
    assert placed["crm_contacts"].relation("crm_contacts") == "lake.hubspot.crm_contacts"
    assert placed["email_events"].relation("email_events") == "raw.email_events"


def test_a_run_reads_a_source_from_its_own_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    working = tmp_path / "working.duckdb"
    monkeypatch.setenv(DATABASE_ENV, str(working))
    monkeypatch.setenv(PUBLISHED_ENV, str(tmp_path / "audience.duckdb"))
    monkeypatch.setenv(EXPORT_DIR_ENV, str(tmp_path / "exports"))
    generate(working, profile="S", as_of_date=TODAY, locations=raw_locations(SHOP_ELSEWHERE))
    with duckdb.connect(str(working), read_only=True) as con:
        tables = dict(con.execute("select table_name, table_schema from information_schema.tables").fetchall())
    assert {tables[table] for table in RAW_TABLES if table.startswith("shop_")} == {"fivetran_shop"}
    assert {tables[table] for table in RAW_TABLES if not table.startswith("shop_")} == {"raw"}

    assert main(["run", "--no-history-seed"]) == 2, "without the vars, schema raw lacks the shop tables"
    assert "raw.shop_orders: table missing" in capsys.readouterr().err

    assert main(["run", "--no-history-seed", "--as-of-date", TODAY.isoformat(), "--vars", "{shop_schema: fivetran_shop}"]) == 0
    with duckdb.connect(str(working), read_only=True) as con:
        landed = con.execute("select count(*) from fivetran_shop.shop_orders").fetchall()[0][0]
    with duckdb.connect(str(tmp_path / "audience.duckdb"), read_only=True) as con:
        reconciled = con.execute(
            "select raw_rows from marts.dq_reconciliation where source_table = 'shop_orders'"
        ).fetchall()
        buyers = con.execute("select count(*) from marts.dim_customers where counted_orders > 0").fetchall()[0][0]
    assert reconciled == [(landed,)] and landed > 0
    assert buyers > 0


def test_the_raw_tables_page_lists_the_contract() -> None:
    page = (PROJECT_DIR / "docs" / "raw_tables.md").read_text()
    documented: dict[str, list[tuple[str, str]]] = {}
    table = None
    for line in page.splitlines():
        heading = re.fullmatch(r"## `(\w+)`", line)
        if heading:
            table = heading.group(1)
            documented[table] = []
        row = re.fullmatch(r"\| `(\w+)` \| ([A-Z0-9(),]+) \|.*", line)
        if row and table:
            documented[table].append((row.group(1), row.group(2)))
    assert documented == RAW_TABLES
