"""Command line: ``python -m audience run | generate | summary``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import duckdb
from tqdm import tqdm

from audience.freshness import FreshnessError, check_sources, stale_message
from audience.generate import PROFILES, generate
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
    run.set_defaults(handler=cmd_run)

    gen = commands.add_parser("generate", help="replace schema raw with synthetic data")
    gen.add_argument("--profile", choices=PROFILES, default="demo", help="demo 10k, M 100k, L 1M customers")
    gen.add_argument("--seed", type=int, default=42, help="seed: same seed and date, same data")
    gen.add_argument("--as-of-date", type=_date, help="data up to this date (default: today, UTC)")
    gen.add_argument("--parquet", type=Path, help="also write each raw table as Parquet into this folder")
    gen.set_defaults(handler=cmd_generate)

    summ = commands.add_parser("summary", help="print the summary of the built marts")
    summ.set_defaults(handler=cmd_summary)

    args = parser.parse_args(argv)
    return int(args.handler(args))
