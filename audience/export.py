"""Activation exports of a published build: one CSV and one Parquet file per segment.

The export folder holds one folder per build and a link ``current`` to the one to send
from::

    exports/current -> builds/<build_id>
    exports/builds/<build_id>/manifest.json           build id, as-of date, files, rows
    exports/builds/<build_id>/<family>/<segment>.csv  and .parquet
    exports/builds/<build_id>/lists/<list_name>.csv   and .parquet (priority lists)
    exports/builds/<build_id>/report.html             the HTML report of the build

A build's files are written into a scratch folder, renamed to ``builds/<build_id>`` when
complete, and only then is ``current`` replaced (a new link renamed over the old one), so
a sending tool reading through ``current`` sees the previous complete set or the new
one. The folder ``current`` pointed to before is kept (a reader may still be in it);
older builds are removed. Everything is created readable by its owner only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from audience.project import PROJECT_DIR
from audience.publish import private_files, read_only
from audience.report_html import TABLES as REPORT_TABLES
from audience.report_html import write_report

EXPORT_DIR_ENV = "AUDIENCE_EXPORT_DIR"
MANIFEST = "manifest.json"
CURRENT = "current"
BUILDS = "builds"
SCRATCH_PREFIX = ".scratch-"
LINK_PREFIX = ".current-"
FORMATS = {"csv": "(format csv, header true)", "parquet": "(format parquet)"}
COLUMNS = "as_of_date, segment_family, segment, customer_id, email, holdout_group"
LISTS = "lists"
LIST_COLUMNS = "as_of_date, list_name, customer_id, email, segment_family, segment, priority_rank, holdout_group"
SAFE_NAME = re.compile(r"^[a-z0-9_]+$")
REPORT = "report.html"
#: Every table of schema ``marts`` a staged export reads: the exported rows, the priority
#: lists and the report's tables (a PostgreSQL publish copies these into the file
#: ``stage_export`` reads).
SOURCE_TABLES = ("fct_segment_exports", "fct_priority_list_exports", *REPORT_TABLES)


def export_dir() -> Path:
    """``$AUDIENCE_EXPORT_DIR``, else ``exports/`` in the project."""
    configured = os.environ.get(EXPORT_DIR_ENV)
    return Path(configured).resolve() if configured else PROJECT_DIR / "exports"


@dataclass(frozen=True)
class ExportedSegment:
    """One segment's files, relative to the build's folder."""

    segment_family: str
    segment: str
    rows: int
    files: list[str]


@dataclass(frozen=True)
class ExportedList:
    """One priority list's files, relative to the build's folder."""

    list_name: str
    rows: int
    files: list[str]


@dataclass(frozen=True)
class StagedExport:
    """A complete export of one build, not yet behind ``current``."""

    folder: Path
    build_id: str
    as_of_date: dt.date
    segments: list[ExportedSegment]
    lists: list[ExportedList] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(segment.rows for segment in self.segments)


def _file_name(family: str, segment: str, extension: str) -> str:
    """``family/segment.ext``; names are snake_case, so they are safe as paths."""
    for part in (family, segment):
        if not SAFE_NAME.match(part):
            raise ValueError(f"segment name {family}.{segment} is not snake_case; cannot export it as a file")
    return f"{family}/{segment}.{extension}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def remove_scratch(folder: Path) -> list[Path]:
    """Delete what a killed export left in ``folder`` (scratch folders hold emails)."""
    if not folder.is_dir():
        return []
    left = sorted([*folder.glob(SCRATCH_PREFIX + "*"), *folder.glob(LINK_PREFIX + "*")])
    for path in left:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return left


def current_build_id(folder: Path) -> str | None:
    """The build id of the export behind ``current``, or None when there is none."""
    manifest = folder / CURRENT / MANIFEST
    if not manifest.is_file():
        return None
    return str(json.loads(manifest.read_text())["build_id"])


def stage_export(published: Path, folder: Path, freshness: Sequence[dict[str, Any]] = ()) -> StagedExport:
    """Write the exports and the HTML report of the published file's latest build into
    ``builds/``; ``freshness`` (raw table, status, age) is the run's freshness check,
    recorded in the manifest and shown in the report."""
    with private_files():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / BUILDS).mkdir(exist_ok=True)
        scratch = folder / f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"
        scratch.mkdir()
        try:
            with read_only(published) as con:
                build_id, as_of = con.execute(
                    "select build_id, as_of_date from marts.publish_log order by published_at desc limit 1"
                ).fetchall()[0]
                counts = con.execute(
                    "select segment_family, segment, count(*) from marts.fct_segment_exports "
                    "group by segment_family, segment order by segment_family, segment"
                ).fetchall()
                segments = []
                for family, segment, rows in counts:
                    names = [_file_name(family, segment, extension) for extension in FORMATS]
                    (scratch / family).mkdir(exist_ok=True)
                    for name, options in zip(names, FORMATS.values(), strict=True):
                        con.execute(
                            f"copy (select {COLUMNS} from marts.fct_segment_exports "
                            f"where segment_family = {_literal(family)} and segment = {_literal(segment)} "
                            f"order by customer_id) to {_literal(str(scratch / name))} {options}"
                        )
                    segments.append(ExportedSegment(family, segment, int(rows), names))
                lists = _export_lists(con, scratch)
                write_report(con, scratch / REPORT, freshness)
            manifest = {
                "build_id": build_id,
                "as_of_date": as_of.isoformat(),
                "exported_at": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
                "segments": [asdict(segment) for segment in segments],
                "lists": [asdict(exported) for exported in lists],
                "report": REPORT,
                "freshness": list(freshness),
            }
            (scratch / MANIFEST).write_text(json.dumps(manifest, indent=2))
            target = folder / BUILDS / build_id
            suffix = 1
            while target.exists():
                suffix += 1
                target = folder / BUILDS / f"{build_id}.{suffix}"
            os.rename(scratch, target)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    return StagedExport(target, build_id, as_of, segments, lists)


def _export_lists(con: duckdb.DuckDBPyConnection, scratch: Path) -> list[ExportedList]:
    """Each priority list's sendable rows as ``lists/<list_name>.csv`` and ``.parquet``
    (none when the published build predates priority lists)."""
    present = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'fct_priority_list_exports'"
    ).fetchall()[0][0]
    if not present:
        return []
    exported = []
    counts = con.execute(
        "select list_name, count(*) from marts.fct_priority_list_exports group by list_name order by list_name"
    ).fetchall()
    for list_name, rows in counts:
        names = [_file_name(LISTS, list_name, extension) for extension in FORMATS]
        (scratch / LISTS).mkdir(exist_ok=True)
        for name, options in zip(names, FORMATS.values(), strict=True):
            con.execute(
                f"copy (select {LIST_COLUMNS} from marts.fct_priority_list_exports "
                f"where list_name = {_literal(list_name)} order by customer_id) "
                f"to {_literal(str(scratch / name))} {options}"
            )
        exported.append(ExportedList(list_name, int(rows), names))
    return exported


def switch_current(folder: Path, staged: StagedExport) -> None:
    """Point ``current`` at the staged build (one rename) and remove older builds,
    keeping the one ``current`` pointed to before."""
    link = folder / CURRENT
    previous = (link.parent / os.readlink(link)).resolve() if link.is_symlink() else None
    fresh = folder / f"{LINK_PREFIX}{uuid.uuid4().hex}"
    os.symlink(os.path.relpath(staged.folder, folder), fresh)
    os.replace(fresh, link)
    keep = {staged.folder.resolve(), previous}
    for build in (folder / BUILDS).iterdir():
        if build.resolve() not in keep:
            shutil.rmtree(build)


def discard(staged: StagedExport) -> None:
    """Remove a staged export that will not be published."""
    shutil.rmtree(staged.folder, ignore_errors=True)


def export_published(published: Path, folder: Path) -> StagedExport:
    """Export the published build and make it ``current``."""
    staged = stage_export(published, folder)
    switch_current(folder, staged)
    return staged
