"""Publishing on PostgreSQL (SPEC section 10): readers only ever see an audited build.

dbt builds the marts into schema ``marts_working`` (macros/generate_schema_name.sql),
which readers cannot read. Publishing makes every table of schema ``marts`` hold exactly
the rows of its working model, in one transaction: the published tables are filled with
``delete`` and ``insert ... select``, never dropped or truncated, so they keep their
identity (grants and readers' own views survive) and readers are never blocked (MVCC):
a statement sees the whole old build until the commit and the whole new one after it.
``marts.publish_log`` gets the publish's row in the same transaction. Any error rolls
everything back.

What takes a lock that waits for readers (and makes new readers wait until the commit):
adding a column a model gained, replacing a view an older layout left in ``marts``, and
dropping a published table whose model is gone. A publish of unchanged models takes none;
one that would wait longer than ``LOCK_TIMEOUT`` fails and rolls back. Publishes are
serialised by an advisory lock.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import psycopg2.errors
from psycopg2 import sql
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, connection

from audience.export import SOURCE_TABLES, StagedExport, discard, stage_export
from audience.publish import PUBLISH_LOG_COLUMNS, Facts, LogRow, PublishError, private_files, read_facts
from audience.raw_schema import RAW_TABLES, Locations, raw_locations

PUBLISHED_SCHEMA = "marts"
WORKING_SCHEMA = "marts_working"
#: Relations dbt leaves beside a model while it replaces it; never published.
DBT_SCRATCH_SUFFIXES = ("__dbt_tmp", "__dbt_backup")
#: How long a publish waits for a lock (only schema changes need one that conflicts with
#: readers) before it fails and rolls back, rather than queue new readers behind it.
LOCK_TIMEOUT = "60s"
#: DuckDB's type for each PostgreSQL type of the published marts that has an exact one, as
#: ``format_type`` writes it; numeric(p,s), character varying(n) and timestamp(p) by the
#: patterns below. Any other type fails the export copy rather than be guessed.
DUCKDB_TYPES = {
    "bigint": "bigint",
    "integer": "integer",
    "boolean": "boolean",
    "date": "date",
    "double precision": "double",
    "text": "varchar",
    "character varying": "varchar",
    "timestamp without time zone": "timestamp",
}
NUMERIC = re.compile(r"numeric\((?P<precision>\d+),(?P<scale>\d+)\)")
VARCHAR = re.compile(r"character varying\(\d+\)")
TIMESTAMP = re.compile(r"timestamp\(\d\) without time zone")


def connect() -> connection:
    """A connection with the settings of the ``postgres`` target of profiles.yml (the
    same environment variables and defaults)."""
    return psycopg2.connect(
        host=os.environ.get("AUDIENCE_PG_HOST", "127.0.0.1"),
        port=int(os.environ.get("AUDIENCE_PG_PORT", "5432")),
        user=os.environ.get("AUDIENCE_PG_USER", "audience"),
        password=os.environ.get("AUDIENCE_PG_PASSWORD", "audience"),
        dbname=os.environ.get("AUDIENCE_PG_DATABASE", "audience"),
    )


Rows = Callable[..., list[tuple]]


def _query(conn: connection) -> Rows:
    """Run one statement with optional parameters on ``conn``; its rows."""

    def query(text: str, params: tuple = ()) -> list[tuple]:
        with conn.cursor() as cur:
            cur.execute(text, params)
            return cur.fetchall()

    return query


@contextmanager
def _reading(conn: connection) -> Iterator[Rows]:
    """Queries on ``conn``, all in one snapshot; a transaction this opens (read-only,
    repeatable read) is ended afterwards, so no lock is held on relations dbt replaces (it
    joins a transaction already open instead: a publish's, which sees its own build)."""
    opened = conn.info.transaction_status == TRANSACTION_STATUS_IDLE
    try:
        query = _query(conn)
        if opened:
            with conn.cursor() as cur:
                cur.execute("set transaction isolation level repeatable read, read only")
        yield query
    finally:
        if opened:
            conn.rollback()


def _exists(query: Rows, relation: str) -> bool:
    return bool(query(f"select to_regclass('{relation}') is not null")[0][0])


def missing_raw_tables(conn: connection, locations: Locations | None = None) -> list[str]:
    """The raw tables of the input contract absent from their locations (default: schema
    ``raw``), each named as it was looked for."""
    where = locations or raw_locations()
    with _reading(conn) as query:
        return [
            where[table].relation(table) for table in RAW_TABLES if not _exists(query, where[table].relation(table))
        ]


def published_facts(conn: connection, families: list[str]) -> Facts | None:
    """The facts of the published build, or None when nothing was published."""
    with _reading(conn) as query:
        if not _exists(query, f"{PUBLISHED_SCHEMA}.publish_log"):
            return None
        return read_facts(query, families, PUBLISHED_SCHEMA)


def working_facts(conn: connection, families: list[str]) -> Facts:
    """The facts of the build dbt just wrote into the working schema."""
    with _reading(conn) as query:
        return read_facts(query, families, WORKING_SCHEMA)


def latest_publish(conn: connection) -> LogRow | None:
    """The newest row of ``marts.publish_log``, or None."""
    names = ", ".join(name for name, _ in PUBLISH_LOG_COLUMNS)
    with _reading(conn) as query:
        if not _exists(query, f"{PUBLISHED_SCHEMA}.publish_log"):
            return None
        rows = query(f"select {names} from {PUBLISHED_SCHEMA}.publish_log order by published_at desc limit 1")
    return LogRow(*rows[0]) if rows else None


def _relations(query: Rows, schema: str) -> dict[str, str]:
    """Tables, views and materialized views of ``schema``: name → relkind."""
    return dict(
        query(
            "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm') order by c.relname",
            (schema,),
        )
    )


def _columns(query: Rows, schema: str, name: str) -> list[tuple[str, str]]:
    """(column, type as PostgreSQL writes it) of a relation, in order."""
    return query(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped order by a.attnum",
        (schema, name),
    )


def _table(name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(name))


def _create(cur: psycopg2.extensions.cursor, name: str, columns: list[tuple[str, str]], reader_role: str) -> None:
    ddl = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind)) for column, kind in columns)
    cur.execute(sql.SQL("create table {} ({})").format(_table(name), ddl))
    cur.execute(sql.SQL("grant select on {} to {}").format(_table(name), sql.Identifier(reader_role)))


def _replace_rows(cur: psycopg2.extensions.cursor, name: str, columns: list[str]) -> None:
    """The published table's rows become the working model's (readers see either set)."""
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    cur.execute(sql.SQL("delete from {}").format(_table(name)))
    cur.execute(
        sql.SQL("insert into {} ({}) select {} from {}.{}").format(
            _table(name), names, names, sql.Identifier(WORKING_SCHEMA), sql.Identifier(name)
        )
    )


def _publish_model(cur: psycopg2.extensions.cursor, query: Rows, name: str, kind: str | None, reader_role: str) -> None:
    """Make ``marts.<name>`` hold the rows of ``marts_working.<name>``."""
    columns = _columns(query, WORKING_SCHEMA, name)
    if kind in ("v", "m"):
        # An older layout had dbt build some marts as views in marts: a table replaces
        # it, unless a reader's view depends on it (then the publish fails and says so).
        cur.execute(sql.SQL("drop {} {}").format(sql.SQL("view" if kind == "v" else "materialized view"), _table(name)))
        kind = None
    if kind is None:
        _create(cur, name, columns, reader_role)
    else:
        published = {column for column, _ in _columns(query, PUBLISHED_SCHEMA, name)}
        for column, data_type in columns:
            if column not in published:
                cur.execute(
                    sql.SQL("alter table {} add column {} {}").format(
                        _table(name), sql.Identifier(column), sql.SQL(data_type)
                    )
                )
    _replace_rows(cur, name, [column for column, _ in columns])


def _drop_if_unused(cur: psycopg2.extensions.cursor, name: str) -> bool:
    """Drop a published table whose model is gone, unless something depends on it."""
    cur.execute("savepoint drop_gone")
    try:
        cur.execute(sql.SQL("drop table {}").format(_table(name)))
    except psycopg2.errors.DependentObjectsStillExist:
        cur.execute("rollback to savepoint drop_gone")
        return False
    cur.execute("release savepoint drop_gone")
    return True


def publish(
    conn: connection, row: LogRow, reader_role: str, before_commit: Callable[[], None] | None = None
) -> list[str]:
    """Publish the working schema into ``marts`` with ``row`` in ``marts.publish_log``,
    in one transaction (``before_commit`` runs inside it, last). Returns notes on
    published tables that were left in place although their model is gone."""
    if conn.info.transaction_status != TRANSACTION_STATUS_IDLE:
        raise PublishError("publishing needs a connection without an open transaction")
    notes = []
    try:
        query = _query(conn)
        with conn.cursor() as cur:
            # One publish at a time; give up rather than stall readers behind a lock.
            cur.execute("select pg_advisory_xact_lock(hashtext('audience.publish'))")
            cur.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
            working = {
                name: kind
                for name, kind in _relations(query, WORKING_SCHEMA).items()
                if not name.endswith(DBT_SCRATCH_SUFFIXES)
            }
            if not working:
                raise PublishError(f"schema {WORKING_SCHEMA} holds no models: run dbt build --target postgres first")
            if "publish_log" in working:
                raise PublishError(f"{WORKING_SCHEMA}.publish_log exists; only publishing writes a publish log")
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(PUBLISHED_SCHEMA)))
            cur.execute(
                sql.SQL("grant usage on schema {} to {}").format(
                    sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(reader_role)
                )
            )
            published = _relations(query, PUBLISHED_SCHEMA)
            for name in working:
                _publish_model(cur, query, name, published.get(name), reader_role)
            for name in sorted(set(published) - set(working) - {"publish_log"}):
                if published[name] in ("r", "p") and not _drop_if_unused(cur, name):
                    notes.append(
                        f"{PUBLISHED_SCHEMA}.{name} was left in place: its model is gone, "
                        "but other objects depend on it"
                    )
            if "publish_log" not in published:
                _create(cur, "publish_log", list(PUBLISH_LOG_COLUMNS), reader_role)
            placeholders = sql.SQL(", ").join(sql.Placeholder() for _ in PUBLISH_LOG_COLUMNS)
            cur.execute(sql.SQL("insert into {} values ({})").format(_table("publish_log"), placeholders), astuple(row))
            if before_commit is not None:
                before_commit()
        conn.commit()
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise
    return notes


def duckdb_type(pg_type: str, column: str) -> str:
    """DuckDB's type for a column of PostgreSQL type ``pg_type`` (as ``format_type`` writes
    it); a type without an exact DuckDB equivalent here fails, naming ``column``."""
    if pg_type in DUCKDB_TYPES:
        return DUCKDB_TYPES[pg_type]
    if VARCHAR.fullmatch(pg_type):
        return "varchar"
    if TIMESTAMP.fullmatch(pg_type):
        return "timestamp"
    numeric = NUMERIC.fullmatch(pg_type)
    if numeric and 1 <= int(numeric["precision"]) <= 38 and 0 <= int(numeric["scale"]) <= int(numeric["precision"]):
        return f"decimal({numeric['precision']},{numeric['scale']})"
    raise PublishError(
        f"{column} has PostgreSQL type {pg_type}, which the export copy does not map to a DuckDB type "
        "(known: numeric(p,s) with p up to 38, character varying, text, date, timestamp, boolean, integer, "
        "bigint, double precision)"
    )


def stage_published_export(conn: connection, folder: Path, freshness: Sequence[dict[str, Any]] = ()) -> StagedExport:
    """Stage the exports and the HTML report of the build in ``marts`` as ``conn`` sees it
    (inside a publish transaction: the build being published), through audience.export:
    every table ``stage_export`` reads (``SOURCE_TABLES``) is copied, in one snapshot and
    through CSV, into a temporary DuckDB file with the same columns and types.
    ``freshness`` is the run's freshness check (the manifest and the report show it)."""
    with private_files(), tempfile.TemporaryDirectory(prefix="audience-export-") as temporary:
        scratch = Path(temporary)
        copied: dict[str, dict[str, str]] = {}
        with _reading(conn) as query:
            if not (
                _exists(query, f"{PUBLISHED_SCHEMA}.publish_log")
                and query(f"select exists (select from {PUBLISHED_SCHEMA}.publish_log)")[0][0]
            ):
                raise PublishError("nothing has been published: exports are written from the published build only")
            # Text as DuckDB's CSV reader parses it, whatever the server's defaults.
            query("select set_config('datestyle', 'ISO, YMD', true), set_config('extra_float_digits', '3', true)")
            for name in SOURCE_TABLES:
                if not _exists(query, f"{PUBLISHED_SCHEMA}.{name}"):
                    continue
                columns = _columns(query, PUBLISHED_SCHEMA, name)
                copied[name] = {
                    column: duckdb_type(pg_type, f"{PUBLISHED_SCHEMA}.{name}.{column}") for column, pg_type in columns
                }
                names = sql.SQL(", ").join(sql.Identifier(column) for column, _ in columns)
                with (scratch / f"{name}.csv").open("w", encoding="utf-8") as stream, conn.cursor() as cur:
                    # NULL is written unquoted and empty, an empty string as "": the reader
                    # below keeps the two apart (allow_quoted_nulls = false).
                    cur.copy_expert(
                        sql.SQL("copy (select {} from {}) to stdout with (format csv, header true)")
                        .format(names, _table(name))
                        .as_string(conn),
                        stream,
                    )
        copy = scratch / "published.duckdb"
        with duckdb.connect(str(copy)) as con:
            con.execute("create schema marts")
            for name, types in copied.items():
                declared = ", ".join(f"{_literal(column)}: {_literal(kind)}" for column, kind in types.items())
                con.execute(
                    f"create table marts.{name} as select * from read_csv({_literal(str(scratch / f'{name}.csv'))}, "
                    "header = true, delim = ',', quote = '\"', escape = '\"', auto_detect = false, "
                    f"columns = {{{declared}}}, allow_quoted_nulls = false)"
                )
        return stage_export(copy, folder, freshness)


def publish_with_export(
    conn: connection, row: LogRow, reader_role: str, folder: Path, freshness: Sequence[dict[str, Any]] = ()
) -> tuple[StagedExport, list[str]]:
    """Publish, staging the new build's exports and report inside the publish transaction:
    a failed export rolls the publish back, and a failed publish discards the staged
    export. The caller switches ``current`` to the staged export."""
    staged: list[StagedExport] = []
    try:
        notes = publish(conn, row, reader_role, lambda: staged.append(stage_published_export(conn, folder, freshness)))
    except BaseException:
        for export in staged:
            discard(export)
        raise
    return staged[0], notes


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
