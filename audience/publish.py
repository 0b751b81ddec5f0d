"""Write → audit → publish (SPEC section 10): readers only ever see an audited build.

The build writes and tests in the working database. The audits compare it with the last
published build. Publishing copies every relation of schema ``marts`` (views included,
as tables) into a new DuckDB file beside the published one, with ``marts.publish_log``
(all earlier rows, then this publish), checkpoints and closes it, and renames it over the
published file: a reader holding the old file keeps reading the old build, the next open
sees the new one, and nobody takes a lock on a file anyone else is writing. The dbt
manifest of the published build is kept beside the published file (audience_state/), for
slim CI.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # duckdb is imported where it is used: `python -m audience --help` must not load it.
    import duckdb

Query = Callable[[str], list[tuple]]

#: The environment variable that caps DuckDB's memory, for dbt's sessions (profiles.yml)
#: and the ones publishing and exporting open; the default is profiles.yml's.
MEMORY_LIMIT_ENV = "AUDIENCE_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "3GB"

#: dbt's manifest file name, in the target folder and in the kept production state.
DBT_MANIFEST = "manifest.json"

#: Audits an explicit override may pass (error tests never can: a failed one means a
#: broken contract, such as a suppressed customer in an export).
OVERRIDABLE_AUDITS = ("freshness", "collapse", "as_of_date")

PUBLISH_LOG_COLUMNS = (
    ("build_id", "varchar"),
    ("as_of_date", "date"),
    ("started_at", "timestamp"),
    ("published_at", "timestamp"),
    ("models_built", "integer"),
    ("tests_passed", "integer"),
    ("tests_warned", "integer"),
    ("overridden_audits", "varchar"),
    ("project_commit", "varchar"),
)


class PublishError(RuntimeError):
    """A step of publishing failed; the published database is as it was."""


class DatabaseBusy(RuntimeError):
    """Another process holds a DuckDB file this command must write."""


@dataclass(frozen=True)
class Facts:
    """What the audits compare: the date, the customers and each exclusive family's
    population (customers with a segment in it)."""

    as_of_date: dt.date | None
    customers: int
    populations: dict[str, int]


@dataclass(frozen=True)
class LogRow:
    """One row of ``marts.publish_log``."""

    build_id: str
    as_of_date: dt.date
    started_at: dt.datetime
    published_at: dt.datetime | None
    models_built: int
    tests_passed: int
    tests_warned: int
    overridden_audits: str
    project_commit: str | None


@dataclass(frozen=True)
class AuditFailure:
    """An audit that did not pass, and why."""

    audit: str
    message: str


def session_config() -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB settings of every session publishing and exporting open: the memory cap
    dbt's sessions have (without it, copying the marts of 1 M customers peaked at 7.7 GB;
    under it DuckDB spills to its temporary directory instead)."""
    return {"memory_limit": os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)}


def new_build_id(started_at: dt.datetime) -> str:
    """A sortable, unique build id: the UTC start and a random suffix."""
    return f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def read_facts(query: Query, families: list[str], schema: str = "marts") -> Facts:
    """The audited facts of the marts that ``query`` reads in ``schema`` (on a server
    warehouse the working one is another schema); plain SQL, the same on every engine."""
    as_of, customers = query(f"select max(as_of_date), count(*) from {schema}.dim_customers")[0]
    names = ", ".join("'" + name.replace("'", "''") + "'" for name in families)
    populations = dict.fromkeys(families, 0)
    if names:
        for family, members in query(
            f"select segment_family, count(distinct customer_id) from {schema}.fct_segment_memberships "
            f"where segment_family in ({names}) group by segment_family"
        ):
            populations[str(family)] = int(members)
    return Facts(as_of, int(customers), populations)


def _drop(previous: int, new: int) -> float:
    return (previous - new) / previous


def audit(new: Facts, previous: Facts | None, max_drop_share: float, stale: str | None) -> list[AuditFailure]:
    """Every audit of SPEC section 10 that fails (the error tests are the build's)."""
    failures = []
    if stale:
        failures.append(AuditFailure("freshness", stale))
    if new.customers == 0:
        failures.append(AuditFailure("collapse", "the build has no customers: it would publish empty marts"))
    elif previous is not None:
        counts = [("customers", previous.customers, new.customers)]
        counts += [
            (f"the {family} family's population", count, new.populations.get(family, 0))
            for family, count in sorted(previous.populations.items())
        ]
        for what, before, after in counts:
            if before > 0 and _drop(before, after) > max_drop_share:
                failures.append(
                    AuditFailure(
                        "collapse",
                        f"{what} fell from {before:,} to {after:,} ({_drop(before, after):.0%}), more than "
                        f"max_publish_drop_share ({max_drop_share:.0%}) against the last published build",
                    )
                )
    if previous is not None and previous.as_of_date and new.as_of_date and new.as_of_date < previous.as_of_date:
        failures.append(
            AuditFailure(
                "as_of_date",
                f"the as-of date {new.as_of_date} is earlier than the published {previous.as_of_date}: "
                "this build is a backfill (its history is kept), not a new publication",
            )
        )
    return failures


def holder_of_lock(error: BaseException | str) -> str | None:
    """'PID n (program)' from DuckDB's lock-conflict message, or None for other errors."""
    found = re.search(r"Conflicting lock is held in (\S+) \(PID (\d+)\)", str(error))
    if found:
        return f"PID {found.group(2)} ({Path(found.group(1)).name})"
    return "another process" if "Could not set lock" in str(error) else None


def ensure_writable(database: Path, what: str, advice: str) -> None:
    """Fail with one line when another process holds ``database``."""
    import duckdb

    if not database.exists():
        return
    try:
        duckdb.connect(str(database)).close()
    except duckdb.IOException as error:
        raise _busy(error, what, database, advice) from None


PUBLISHED_ADVICE = "BI tools must open it read-only (docs/operations.md, For BI tools)"


def _busy(error: duckdb.IOException, what: str, database: Path, advice: str) -> Exception:
    holder = holder_of_lock(error)
    return error if holder is None else DatabaseBusy(f"the {what} {database} is held open by {holder}; {advice}")


@contextmanager
def read_only(database: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published file; a writer holding it is named."""
    import duckdb

    try:
        con = duckdb.connect(str(database), read_only=True, config=session_config())
    except duckdb.IOException as error:
        raise _busy(error, "published database", database, PUBLISHED_ADVICE) from None
    with con:
        yield con


@contextmanager
def private_files() -> Iterator[None]:
    """Files and folders created inside are readable by their owner only (0600 / 0700):
    they hold email addresses."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def published_facts(published: Path, families: list[str]) -> Facts | None:
    """The facts of the published build, or None when nothing was published."""
    if not published.exists():
        return None
    with read_only(published) as con:
        return read_facts(lambda sql: con.execute(sql).fetchall(), families)


def latest_publish(published: Path) -> LogRow | None:
    """The newest row of the published ``marts.publish_log``, or None."""
    if not published.exists():
        return None
    names = ", ".join(name for name, _ in PUBLISH_LOG_COLUMNS)
    with read_only(published) as con:
        rows = con.execute(f"select {names} from marts.publish_log order by published_at desc limit 1").fetchall()
    return LogRow(*rows[0]) if rows else None


def scratch_name(published: Path, build_id: str) -> Path:
    """Where a new published file is written before the rename."""
    return published.with_name(f".{published.name}.{build_id}.tmp")


def remove_scratch(published: Path) -> list[Path]:
    """Delete new published files a killed run left (they hold emails); returns them."""
    left = sorted(published.parent.glob(f".{published.name}.*.tmp*"))
    for path in left:
        path.unlink(missing_ok=True)
    return left


def write_published(working: Path, published: Path, row: LogRow) -> Path:
    """Write the next published file beside ``published``: every relation of the working
    ``marts`` as a table, and the publish log with all earlier rows plus ``row``.

    The file is checkpointed and closed; it replaces nothing yet. Returns its path.
    """
    import duckdb

    scratch = scratch_name(published, row.build_id)
    try:
        with private_files(), duckdb.connect(str(scratch), config=session_config()) as con:
            con.execute(f"attach '{_escaped(working)}' as working (read_only)")
            relations = [
                name
                for (name,) in con.execute(
                    "select table_name from information_schema.tables "
                    "where table_catalog = 'working' and table_schema = 'marts' order by table_name"
                ).fetchall()
            ]
            if "publish_log" in relations:
                raise PublishError("the working database has a marts.publish_log; only publishing writes one")
            con.execute("create schema marts")
            for name in relations:
                con.execute(f'create table marts."{name}" as select * from working.marts."{name}"')
            con.execute("detach working")
            columns = ", ".join(f"{name} {kind}" for name, kind in PUBLISH_LOG_COLUMNS)
            con.execute(f"create table marts.publish_log ({columns})")
            if published.exists():
                try:
                    con.execute(f"attach '{_escaped(published)}' as previous (read_only)")
                except duckdb.IOException as error:
                    raise _busy(error, "published database", published, PUBLISHED_ADVICE) from None
                con.execute("insert into marts.publish_log select * from previous.marts.publish_log")
                con.execute("detach previous")
            placeholders = ", ".join("?" for _ in PUBLISH_LOG_COLUMNS)
            con.execute(f"insert into marts.publish_log values ({placeholders})", list(astuple(row)))
            con.execute("checkpoint")
        os.chmod(scratch, 0o600)
        return scratch
    except BaseException:
        remove_scratch(published)
        raise


def swap_in(scratch: Path, published: Path) -> None:
    """Rename the new published file over the old one (atomic on one file system)."""
    descriptor = os.open(scratch, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(scratch, published)
    _fsync_folder(published.parent)


def keep_state(manifest: bytes, state: Path) -> None:
    """Keep the dbt manifest of the build just published as ``state``/manifest.json, the
    production state slim CI compares with (audience.slim_ci): written beside and renamed
    over the previous one, so a reader sees the old manifest or the new, never half."""
    state.mkdir(parents=True, exist_ok=True)
    scratch = state / f".{DBT_MANIFEST}.tmp"
    scratch.write_bytes(manifest)
    os.replace(scratch, state / DBT_MANIFEST)


def _escaped(path: Path) -> str:
    return str(path).replace("'", "''")
