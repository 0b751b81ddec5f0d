"""Activation exports: one CSV and one Parquet file per segment for the sending tools.

Files land as ``<folder>/<family>/<segment>.csv`` and ``.parquet`` with the rows of
``marts.fct_segment_exports`` (emailable treatment members). Each file is written to a
scratch folder inside ``<folder>`` first and then renamed over the old one: a rename on
one file system is atomic, so a reader sees the old file or the new one, never half of
one. ``manifest.json`` (written last, the same way) lists the files of the export;
files of segments that the previous manifest listed and that are gone now are removed.
Files the manifest never listed are never touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from audience.project import PROJECT_DIR

EXPORT_DIR_ENV = "AUDIENCE_EXPORT_DIR"
MANIFEST = "manifest.json"
FORMATS = {"csv": "(format csv, header true)", "parquet": "(format parquet)"}
COLUMNS = "as_of_date, segment_family, segment, customer_id, email, holdout_group"


def export_dir() -> Path:
    """``$AUDIENCE_EXPORT_DIR``, else ``exports/`` in the project."""
    configured = os.environ.get(EXPORT_DIR_ENV)
    return Path(configured).resolve() if configured else PROJECT_DIR / "exports"


@dataclass(frozen=True)
class ExportedSegment:
    """One segment's files, relative to the export folder."""

    segment_family: str
    segment: str
    rows: int
    files: list[str]


SAFE_NAME = re.compile(r"^[a-z0-9_]+$")


def _file_name(family: str, segment: str, extension: str) -> str:
    """``family/segment.ext``; names are snake_case, so they are safe as paths."""
    for part in (family, segment):
        if not SAFE_NAME.match(part):
            raise ValueError(f"segment name {family}.{segment} is not snake_case; cannot export it as a file")
    return f"{family}/{segment}.{extension}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _previous_files(folder: Path) -> set[str]:
    manifest = folder / MANIFEST
    if not manifest.exists():
        return set()
    listed = json.loads(manifest.read_text())
    return {name for segment in listed.get("segments", []) for name in segment["files"]}


def _replace(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def export_segments(database: Path, folder: Path) -> list[ExportedSegment]:
    """Write every segment of ``marts.fct_segment_exports`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    previous = _previous_files(folder)
    scratch = Path(tempfile.mkdtemp(prefix=".writing-", dir=folder))
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            as_of = con.execute("select max(as_of_date) from marts.fct_segment_exports").fetchall()[0][0]
            counts = con.execute(
                "select segment_family, segment, count(*) from marts.fct_segment_exports "
                "group by segment_family, segment order by segment_family, segment"
            ).fetchall()
            exported = []
            for family, segment, rows in counts:
                files = []
                for extension, options in FORMATS.items():
                    name = _file_name(family, segment, extension)
                    written = scratch / f"{family}.{segment}.{extension}"
                    con.execute(
                        f"copy (select {COLUMNS} from marts.fct_segment_exports "
                        f"where segment_family = {_literal(family)} and segment = {_literal(segment)} "
                        f"order by customer_id) to {_literal(str(written))} {options}"
                    )
                    files.append((written, name))
                exported.append((ExportedSegment(family, segment, rows, [name for _, name in files]), files))

        for _, files in exported:
            for written, name in files:
                _replace(written, folder / name)
        segments = [segment for segment, _ in exported]
        manifest = scratch / MANIFEST
        manifest.write_text(
            json.dumps(
                {
                    "as_of_date": as_of.isoformat() if as_of else None,
                    "segments": [segment.__dict__ for segment in segments],
                },
                indent=2,
            )
        )
        _replace(manifest, folder / MANIFEST)
        current = {name for segment in segments for name in segment.files}
        for name in sorted(previous - current):
            stale = (folder / name).resolve()
            if stale.is_relative_to(folder.resolve()):
                stale.unlink(missing_ok=True)
        return segments
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
