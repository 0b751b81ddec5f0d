"""Publishing on Spark (SPEC section 10) without a transactional table format.

Spark's Parquet tables in a Hive metastore have no multi-table transaction and no schema
rename, so the published marts cannot be swapped in one step as on DuckDB (a file
rename) or PostgreSQL (one transaction). Instead:

1. **Copy**: every table and view of the working schema ``marts_working`` is copied as a
   table into a new schema of its own, ``marts_v<build id>`` (a complete, versioned
   copy), with ``publish_log`` holding every earlier row and then this publish's.
   Readers see nothing of it yet.
2. **Repoint**: each view ``marts.<model>`` is changed in place (``alter view ... as``)
   to select from the new copy; ``marts.publish_log`` is repointed **last**. A view is
   never dropped (``create or replace view`` would drop and recreate it, and a reader
   polling meanwhile was told it did not exist): readers' own views on
   ``marts.<model>`` keep working, and a statement reading one view sees either copy
   whole.
3. **Prune**: the views of models that are gone are dropped, and so are copies older
   than the ``keep`` newest (a reader still running a query on the previous copy is not
   cut off).

The window: between the first and the last view altered (``Published.window_seconds``),
a query joining two marts may read one from the old build and one from the new. A reader
that needs several marts of one build reads ``marts.publish_log``'s newest ``build_id``
and queries that build's schema (``published_schema(build_id)``) directly: a copy never
changes after it is published. Spark without Ranger or Unity Catalog has no grants to
keep; on a catalog with grants, the views keep theirs, since they are altered, not
dropped.

``Query`` is any function that runs one Spark SQL statement and returns its rows: a
SparkSession's (``session_query``) for target ``spark``, or a Thrift cursor's.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING

from audience.publish import PUBLISH_LOG_COLUMNS, Facts, LogRow, PublishError, read_facts

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PUBLISHED_SCHEMA = "marts"
WORKING_SCHEMA = "marts_working"
#: The prefix of the versioned copies' schemas: ``marts_v`` and the build id.
COPY_PREFIX = "marts_v"
#: Relations dbt leaves beside a model while it replaces it; never published.
DBT_SCRATCH_SUFFIXES = ("__dbt_tmp", "__dbt_backup")
#: Spark's types for the publish log's columns.
SPARK_TYPES = {"varchar": "string", "integer": "int"}

Query = Callable[[str], list[tuple]]


@dataclass(frozen=True)
class Published:
    """What a publish did: the copy readers now see, the models, and the window in which
    a query over several marts could have mixed the old build and the new."""

    schema: str
    models: list[str]
    window_seconds: float
    dropped: list[str]


def session_query(session: SparkSession) -> Query:
    """Run statements on a SparkSession (target ``spark``, method session)."""

    def query(sql: str) -> list[tuple]:
        return [tuple(row) for row in session.sql(sql).collect()]

    return query


def published_schema(build_id: str) -> str:
    """The schema of a build's published copy (build ids are letters, digits and '-')."""
    if not re.fullmatch(r"[0-9A-Za-z-]+", build_id):
        raise PublishError(f"build id {build_id!r} cannot name a schema")
    return COPY_PREFIX + build_id.lower().replace("-", "_")


def _schemas(query: Query) -> set[str]:
    return {str(name) for (name,) in query("show schemas")}


def _relations(query: Query, schema: str) -> dict[str, bool]:
    """Tables and views of ``schema`` (temporary views left out): name → is a view."""
    if schema not in _schemas(query):
        return {}
    views = {str(row[1]) for row in query(f"show views in {schema}") if not row[2]}
    return {
        str(row[1]): str(row[1]) in views
        for row in query(f"show tables in {schema}")
        if not row[2] and not str(row[1]).endswith(DBT_SCRATCH_SUFFIXES)
    }


def published_facts(query: Query, families: list[str]) -> Facts | None:
    """The facts of the published build, or None when nothing was published."""
    if "publish_log" not in _relations(query, PUBLISHED_SCHEMA):
        return None
    return read_facts(query, families, PUBLISHED_SCHEMA)


def working_facts(query: Query, families: list[str]) -> Facts:
    """The facts of the build dbt just wrote into the working schema."""
    return read_facts(query, families, WORKING_SCHEMA)


def latest_publish(query: Query) -> LogRow | None:
    """The newest row of ``marts.publish_log``, or None."""
    if "publish_log" not in _relations(query, PUBLISHED_SCHEMA):
        return None
    names = ", ".join(name for name, _ in PUBLISH_LOG_COLUMNS)
    rows = query(f"select {names} from {PUBLISHED_SCHEMA}.publish_log order by published_at desc limit 1")
    return LogRow(*rows[0]) if rows else None


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return f"timestamp'{value:%Y-%m-%d %H:%M:%S.%f}'"
    if isinstance(value, dt.date):
        return f"date'{value.isoformat()}'"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _copies(query: Query) -> list[str]:
    """The versioned copies' schemas, oldest first (build ids sort by their start)."""
    return sorted(name for name in _schemas(query) if name.startswith(COPY_PREFIX))


def publish(query: Query, row: LogRow, keep: int = 2, before_repoint: Callable[[str], None] | None = None) -> Published:
    """Publish the working schema as a new versioned copy and repoint the views of
    ``marts`` to it, ``publish_log`` last; then drop all but the ``keep`` newest copies.
    ``before_repoint`` runs on the complete copy's schema before any view changes (the
    main command stages the exports there). A failure before the repointing leaves
    ``marts`` as it was (the partial copy is dropped); the repointing itself is the
    documented window."""
    if keep < 2:
        raise PublishError("keep at least the new copy and the one readers may still be reading")
    working = sorted(_relations(query, WORKING_SCHEMA))
    if not working:
        raise PublishError(f"schema {WORKING_SCHEMA} holds no models: run dbt build --target spark first")
    if "publish_log" in working:
        raise PublishError(f"{WORKING_SCHEMA}.publish_log exists; only publishing writes a publish log")
    copy = published_schema(row.build_id)
    if copy in _schemas(query):
        raise PublishError(f"schema {copy} exists already: build {row.build_id} was published")
    published = _relations(query, PUBLISHED_SCHEMA)
    tables = [name for name, is_view in published.items() if not is_view]
    if tables:
        raise PublishError(
            f"{PUBLISHED_SCHEMA} holds tables ({', '.join(sorted(tables))}): on Spark it holds only the views "
            "publishing repoints"
        )
    try:
        query(f"create schema {copy}")
        for name in working:
            query(f"create table {copy}.{name} using parquet as select * from {WORKING_SCHEMA}.{name}")
        columns = ", ".join(f"{name} {SPARK_TYPES.get(kind, kind)}" for name, kind in PUBLISH_LOG_COLUMNS)
        query(f"create table {copy}.publish_log ({columns}) using parquet")
        if "publish_log" in published:
            query(f"insert into {copy}.publish_log select * from {PUBLISHED_SCHEMA}.publish_log")
        values = ", ".join(_literal(value) for value in astuple(row))
        query(f"insert into {copy}.publish_log values ({values})")
        if before_repoint is not None:
            before_repoint(copy)
    except BaseException:
        query(f"drop schema if exists {copy} cascade")
        raise
    query(f"create schema if not exists {PUBLISHED_SCHEMA}")
    started = time.perf_counter()
    for name in [*working, "publish_log"]:
        # alter view changes the view in place; Spark's create or replace view drops and
        # recreates it, and a reader polling meanwhile was told it did not exist.
        verb = "alter" if name in published else "create"
        query(f"{verb} view {PUBLISHED_SCHEMA}.{name} as select * from {copy}.{name}")
    window = time.perf_counter() - started
    # A model that is gone: its view is dropped (a reader's own view on it then fails,
    # naming it), after the repointing, so it is outside the window.
    for name in sorted(set(published) - set(working) - {"publish_log"}):
        query(f"drop view {PUBLISHED_SCHEMA}.{name}")
    dropped = []
    for schema in _copies(query)[:-keep]:
        query(f"drop schema {schema} cascade")
        dropped.append(schema)
    return Published(copy, working, window, dropped)
