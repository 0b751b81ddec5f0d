"""Command line: ``python -m audience run | generate | backfill | export | summary``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import duckdb
from tqdm import tqdm

from audience.backfill import BackfillError, backfill, dates_between
from audience.export import export_dir, export_segments
from audience.freshness import FreshnessError, check_sources, stale_message
from audience.generate import PROFILES, generate, generate_next_day
from audience.project import database_path, run_dbt
from audience.raw_schema import RAW_SCHEMA, RAW_TABLES
from audience.report import summary


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from error


def _missing_raw_tables(database: Path) -> list[str] | None:
    """Raw tables absent from the database; None when there is no raw schema at all."""
    if not database.exists():
        return None
    with duckdb.connect(str(database), read_only=True) as con:
        present = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [RAW_SCHEMA],
            ).fetchall()
        }
    if not present:
        return None
    return [table for table in RAW_TABLES if table not in present]


def _generate(database: Path, profile: str, as_of: dt.date | None, seed: int, parquet: Path | None) -> None:
    started = time.perf_counter()
    with tqdm(total=len(RAW_TABLES), desc=f"generating {profile}", unit="table") as bar:

        def progress(table: str, rows: int) -> None:
            bar.set_postfix_str(f"{table}: {rows:,} rows")
            bar.update(1)

        counts = generate(database, profile=profile, as_of_date=as_of, seed=seed, parquet_dir=parquet, progress=progress)
    print(
        f"generated {sum(counts.values()):,} raw rows into {database} (schema raw) "
        f"in {time.perf_counter() - started:.1f} s"
    )


def cmd_generate(args: argparse.Namespace) -> int:
    if args.append_day:
        try:
            counts = generate_next_day(database_path(), args.profile, args.append_day, args.seed)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"appended {sum(counts.values()):,} raw rows of {args.append_day} to {database_path()}")
        return 0
    _generate(database_path(), args.profile, args.as_of_date, args.seed, args.parquet)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    database = database_path()
    missing = _missing_raw_tables(database)
    if missing is None or args.regenerate:
        _generate(database, args.profile, None, args.seed, None)
    elif missing:
        print(
            f"error: {database} has a raw schema without these tables: {', '.join(missing)}. "
            "Load them (SPEC section 1) or regenerate the demo data with make run ARGS=--regenerate.",
            file=sys.stderr,
        )
        return 2

    print("checking source freshness ...")
    try:
        message = stale_message(check_sources())
    except FreshnessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if message and not args.allow_stale:
        print(message, file=sys.stderr)
        return 3
    if message:
        print(message.splitlines()[0].replace("Refusing to publish", "Publishing anyway (--allow-stale)"))

    build_args = ["build"]
    if args.as_of_date:
        build_args += ["--vars", json.dumps({"as_of_date": args.as_of_date.isoformat()})]
    result = run_dbt(build_args)
    if not result.success:
        print("error: dbt build failed; marts were not all published (see the log above).", file=sys.stderr)
        return 1
    print()
    print(summary(database))
    _export(database, args.export_dir)
    return 0


def _export(database: Path, folder: Path | None) -> None:
    folder = folder or export_dir()
    segments = export_segments(database, folder)
    rows = sum(segment.rows for segment in segments)
    print(f"\nexported {len(segments)} segments ({rows:,} rows, CSV and Parquet) to {folder}")


def cmd_export(args: argparse.Namespace) -> int:
    _export(database_path(), args.export_dir)
    return 0


def _missing_raw_error(database: Path) -> str | None:
    missing = _missing_raw_tables(database)
    if missing is None:
        return f"{database} has no raw tables: load them (SPEC section 1) or run python -m audience generate."
    if missing:
        return f"{database} has a raw schema without these tables: {', '.join(missing)}."
    return None


def cmd_backfill(args: argparse.Namespace) -> int:
    try:
        dates = dates_between(args.start, args.end)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    problem = _missing_raw_error(database_path())
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    with tqdm(total=len(dates), desc="backfill", unit="date") as bar:

        def progress(date: dt.date, seconds: float) -> None:
            bar.set_postfix_str(f"{date} in {seconds:.1f} s")
            bar.update(1)

        try:
            result = backfill(dates, run_tests=not args.no_test, on_date=progress)
        except BackfillError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    tested = "" if result.test_seconds is None else f", tests {result.test_seconds:.1f} s"
    print(
        f"backfilled {len(result.dates)} dates ({result.dates[0]} to {result.dates[-1]}) in "
        f"{result.staging_seconds + sum(result.date_seconds) + (result.test_seconds or 0):.1f} s: "
        f"staging {result.staging_seconds:.1f} s, {sum(result.date_seconds) / len(result.dates):.1f} s "
        f"per date{tested}"
    )
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    print(summary(database_path()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="audience", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="demo data if absent, freshness gate, dbt build, summary")
    run.add_argument("--regenerate", action="store_true", help="regenerate the demo raw data first")
    run.add_argument("--profile", choices=PROFILES, default="demo", help="size of generated data")
    run.add_argument("--seed", type=int, default=42, help="seed of generated data")
    run.add_argument("--as-of-date", type=_date, help="build as of this date (default: today, UTC)")
    run.add_argument("--allow-stale", action="store_true", help="publish even when sources are stale")
    run.add_argument("--export-dir", type=Path, help="where segment files go (default: $AUDIENCE_EXPORT_DIR or exports/)")
    run.set_defaults(handler=cmd_run)

    gen = commands.add_parser("generate", help="replace schema raw with synthetic data")
    gen.add_argument("--profile", choices=PROFILES, default="demo", help="demo 10k, M 100k, L 1M customers")
    gen.add_argument("--seed", type=int, default=42, help="seed: same seed and date, same data")
    gen.add_argument("--as-of-date", type=_date, help="data up to this date (default: today, UTC)")
    gen.add_argument("--parquet", type=Path, help="also write each raw table as Parquet into this folder")
    gen.add_argument(
        "--append-day",
        type=_date,
        help="instead, append this one day to data generated as of it (same profile and seed)",
    )
    gen.set_defaults(handler=cmd_generate)

    fill = commands.add_parser("backfill", help="build the marts for every date of a range (history)")
    fill.add_argument("--start", type=_date, required=True, help="first as-of date, YYYY-MM-DD")
    fill.add_argument("--end", type=_date, required=True, help="last as-of date, YYYY-MM-DD (included)")
    fill.add_argument("--no-test", action="store_true", help="skip dbt test on the last date")
    fill.set_defaults(handler=cmd_backfill)

    exp = commands.add_parser("export", help="write each segment's emailable treatment members as CSV + Parquet")
    exp.add_argument("--export-dir", type=Path, help="folder (default: $AUDIENCE_EXPORT_DIR or exports/)")
    exp.set_defaults(handler=cmd_export)

    summ = commands.add_parser("summary", help="print the summary of the built marts")
    summ.set_defaults(handler=cmd_summary)

    args = parser.parse_args(argv)
    return int(args.handler(args))
