"""The raw input contract (SPEC section 1): ten tables, by default in schema ``raw``.

Each source (crm, email, shop: a table's name starts with its source) can live elsewhere:
the dbt vars ``<source>_database`` (null: the target's database) and ``<source>_schema``
(default ``raw``) place it, for dbt's sources and for the tooling alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

RAW_SCHEMA = "raw"
SOURCES = ("crm", "email", "shop")

RAW_TABLES: dict[str, list[tuple[str, str]]] = {
    "crm_accounts": [
        ("account_id", "VARCHAR"),
        ("account_name", "VARCHAR"),
        ("industry", "VARCHAR"),
        ("employee_count", "INTEGER"),
        ("country", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
        ("_loaded_at", "TIMESTAMP"),
    ],
    "crm_contacts": [
        ("contact_id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("email", "VARCHAR"),
        ("first_name", "VARCHAR"),
        ("last_name", "VARCHAR"),
        ("job_title", "VARCHAR"),
        ("country", "VARCHAR"),
        ("is_deleted", "BOOLEAN"),
        ("created_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
        ("_loaded_at", "TIMESTAMP"),
    ],
    "crm_contact_tags": [
        ("contact_id", "VARCHAR"),
        ("tag", "VARCHAR"),
        ("tagged_at", "TIMESTAMP"),
        ("_loaded_at", "TIMESTAMP"),
    ],
    "email_campaigns": [
        ("campaign_id", "VARCHAR"),
        ("campaign_name", "VARCHAR"),
        ("campaign_type", "VARCHAR"),
        ("sent_at", "TIMESTAMP"),
        ("_loaded_at", "TIMESTAMP"),
    ],
    "email_events": [
        ("event_id", "VARCHAR"),
        ("campaign_id", "VARCHAR"),
        ("email", "VARCHAR"),
        ("event_type", "VARCHAR"),
        ("bounce_type", "VARCHAR"),
        ("occurred_at", "TIMESTAMP"),
        ("_loaded_at", "TIMESTAMP"),
    ],
    "shop_customers": [
        ("customer_id", "VARCHAR"),
        ("email", "VARCHAR"),
        ("first_name", "VARCHAR"),
        ("last_name", "VARCHAR"),
        ("country", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
        ("_loaded_at", "TIMESTAMP"),
    ],
    "shop_orders": [
        ("order_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("email", "VARCHAR"),
        ("status", "VARCHAR"),
        ("currency", "VARCHAR"),
        ("total_amount", "DECIMAL(18,2)"),
        ("discount_amount", "DECIMAL(18,2)"),
        ("ordered_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
        ("_loaded_at", "TIMESTAMP"),
    ],
    "shop_order_items": [
        ("order_item_id", "VARCHAR"),
        ("order_id", "VARCHAR"),
        ("product_id", "VARCHAR"),
        ("product_category", "VARCHAR"),
        ("quantity", "INTEGER"),
        ("unit_price", "DECIMAL(18,2)"),
        ("_loaded_at", "TIMESTAMP"),
    ],
    "shop_refunds": [
        ("refund_id", "VARCHAR"),
        ("order_id", "VARCHAR"),
        ("amount", "DECIMAL(18,2)"),
        ("refunded_at", "TIMESTAMP"),
        ("_loaded_at", "TIMESTAMP"),
    ],
    "shop_checkouts": [
        ("checkout_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("email", "VARCHAR"),
        ("cart_amount", "DECIMAL(18,2)"),
        ("currency", "VARCHAR"),
        ("completed_order_id", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("_loaded_at", "TIMESTAMP"),
    ],
}


def column_list(table: str) -> str:
    """The table's column names, comma separated, in contract order."""
    return ", ".join(name for name, _ in RAW_TABLES[table])


@dataclass(frozen=True)
class Location:
    """Where a source's tables are: a database (None: the connection's own) and a schema."""

    database: str | None
    schema: str

    def relation(self, table: str) -> str:
        """The table's name, qualified: ``[database.]schema.table``."""
        return f"{self.database}.{self.schema}.{table}" if self.database else f"{self.schema}.{table}"


DEFAULT_LOCATION = Location(None, RAW_SCHEMA)
Locations = Mapping[str, Location]


def source_of(table: str) -> str:
    """The source of a raw table: the first word of its name (crm_contacts: crm)."""
    return table.split("_", 1)[0]


def raw_locations(dbt_vars: Mapping[str, Any] | None = None) -> dict[str, Location]:
    """Each raw table's location from the vars ``<source>_database`` and ``<source>_schema``
    (the project's vars with any overrides, as dbt sees them); every table in schema raw
    of the connection's database without them."""
    given = dbt_vars or {}
    return {
        table: Location(
            str(given.get(f"{source_of(table)}_database") or "") or None,
            str(given.get(f"{source_of(table)}_schema") or RAW_SCHEMA),
        )
        for table in RAW_TABLES
    }


def create_raw_tables(con: duckdb.DuckDBPyConnection, locations: Locations | None = None) -> None:
    """Create the ten raw tables empty in their locations (default: schema raw),
    replacing tables of the same names there."""
    for table, columns in RAW_TABLES.items():
        location = (locations or {}).get(table, DEFAULT_LOCATION)
        schema = f"{location.database}.{location.schema}" if location.database else location.schema
        con.execute(f"create schema if not exists {schema}")
        ddl = ", ".join(f"{name} {data_type}" for name, data_type in columns)
        con.execute(f"create or replace table {location.relation(table)} ({ddl})")


def contract_problems(con: duckdb.DuckDBPyConnection, locations: Locations | None = None) -> list[str]:
    """Where the raw tables differ from the contract: a missing table or column, or a
    column of another type, each named with what was expected and found. Extra columns
    (an EL tool's own) are allowed."""
    problems = []
    for table, columns in RAW_TABLES.items():
        location = (locations or {}).get(table, DEFAULT_LOCATION)
        found = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = coalesce(?, current_database()) and table_schema = ? and table_name = ?",
                [location.database, location.schema, table],
            ).fetchall()
        )
        relation = location.relation(table)
        if not found:
            problems.append(f"{relation}: table missing")
            continue
        for column, expected in columns:
            actual = found.get(column)
            if actual is None:
                problems.append(f"{relation}.{column}: column missing (expected {expected})")
            elif actual.replace(" ", "") != expected:
                problems.append(f"{relation}.{column}: expected {expected}, found {actual}")
    return problems
