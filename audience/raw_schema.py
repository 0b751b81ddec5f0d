"""The raw input contract (SPEC section 1): ten tables in schema ``raw``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

RAW_SCHEMA = "raw"

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


def create_raw_tables(con: duckdb.DuckDBPyConnection, schema: str = RAW_SCHEMA) -> None:
    """Drop ``schema`` with everything in it and create the ten empty raw tables."""
    con.execute(f"drop schema if exists {schema} cascade")
    con.execute(f"create schema {schema}")
    for table, columns in RAW_TABLES.items():
        ddl = ", ".join(f"{name} {data_type}" for name, data_type in columns)
        con.execute(f"create table {schema}.{table} ({ddl})")


def contract_problems(con: duckdb.DuckDBPyConnection, schema: str = RAW_SCHEMA) -> list[str]:
    """Where the raw tables differ from the contract: a missing table or column, or a
    column of another type, each named with what was expected and found. Extra columns
    (an EL tool's own) are allowed."""
    found: dict[str, dict[str, str]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from information_schema.columns where table_schema = ?",
        [schema],
    ).fetchall():
        found.setdefault(table, {})[column] = data_type
    problems = []
    for table, columns in RAW_TABLES.items():
        if table not in found:
            problems.append(f"{schema}.{table}: table missing")
            continue
        for column, expected in columns:
            actual = found[table].get(column)
            if actual is None:
                problems.append(f"{schema}.{table}.{column}: column missing (expected {expected})")
            elif actual.replace(" ", "") != expected:
                problems.append(f"{schema}.{table}.{column}: expected {expected}, found {actual}")
    return problems
