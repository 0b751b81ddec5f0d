"""Command line: ``python -m audience run | generate | backfill | export | summary | preview``.

Exit codes: 0 done (for run: published, or built as a backfill of an earlier date);
1 a build, publish or export step failed; 2 bad input (raw tables, dates, arguments);
3 an audit refused to publish; 4 a database is held open by another process. Whatever
fails, the published database and the exports stay as they were.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import yaml
from tqdm import tqdm

from audience import predictive, preview, publish
from audience.backfill import BackfillError, backfill, dates_between, seed_history
from audience.export import (
    CURRENT,
    StagedExport,
    current_build_id,
    discard,
    export_dir,
    export_published,
    remove_scratch,
    stage_export,
    switch_current,
)
from audience.freshness import FreshnessError, check_sources, stale_message
from audience.generate import PROFILES, generate, generate_next_day
from audience.project import database_path, exclusive_families, project_commit, project_vars, published_path, run_dbt
from audience.raw_schema import RAW_SCHEMA, RAW_TABLES, contract_problems
from audience.report import summary

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult


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


class StepFailed(RuntimeError):
    """A step of the main command failed; nothing was published."""

    def __init__(self, step: str, reason: str, code: int) -> None:
        super().__init__(f"{step}: {reason}")
        self.code = code


WORKING_ADVICE = "wait for it to finish or stop it; BI tools and people read the published database instead"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _prepare(published: Path, exports: Path) -> None:
    """Remove what a killed run left, and re-export a build whose export a kill cut short."""
    for path in [*publish.remove_scratch(published), *remove_scratch(exports)]:
        print(f"removed {path} (left by a killed run)")
    latest = publish.latest_publish(published)
    if latest is not None and current_build_id(exports) != latest.build_id:
        staged = export_published(published, exports)
        print(f"re-exported published build {staged.build_id}: its export had not completed")


def _check_raw(database: Path, args: argparse.Namespace) -> None:
    publish.ensure_writable(database, "working database", WORKING_ADVICE)
    missing = _missing_raw_tables(database)
    if missing is None or args.regenerate:
        _generate(database, args.profile, None, args.seed, None)
    with duckdb.connect(str(database), read_only=True) as con:
        problems = contract_problems(con)
    if problems:
        raise StepFailed(
            "check",
            f"{database} does not hold the raw tables of the input contract (SPEC section 1):\n  - "
            + "\n  - ".join(problems)
            + "\nLoad them as the contract says, or regenerate the demo data with make run ARGS=--regenerate.",
            2,
        )


def _vars(text: str) -> dict[str, Any]:
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise argparse.ArgumentTypeError(f"--vars must be a YAML or JSON mapping: {error}") from error
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError(f"--vars must be a YAML or JSON mapping, got {text!r}")
    return parsed


def _build(
    as_of: dt.date | None, extra_vars: dict[str, Any], target: str | None = None, select: str | None = None
) -> dbtRunnerResult:
    dbt_vars = {**extra_vars, **({"as_of_date": as_of.isoformat()} if as_of else {})}
    result = run_dbt(
        [
            "build",
            *(["--vars", json.dumps(dbt_vars, default=str)] if dbt_vars else []),
            *(["--target", target] if target else []),
            *(["--select", select] if select else []),
        ]
    )
    if result.success:
        return result
    problems = [str(result.exception)] if result.exception else []
    if result.result is not None:
        problems += [
            f"{entry.node.resource_type} {entry.node.name}: {str(entry.message).strip().splitlines()[0]}"
            for entry in result.result.results
            if str(entry.status) in ("error", "fail")
        ]
    holders = [holder for holder in map(publish.holder_of_lock, problems) if holder]
    if holders:
        raise StepFailed("build", f"the working database is held open by {holders[0]}; {WORKING_ADVICE}", 4)
    raise StepFailed("build", "dbt build failed:\n  - " + "\n  - ".join(problems or ["see logs/dbt.log"]), 1)


def _counts(result: dbtRunnerResult) -> tuple[int, int, int]:
    """Models built, tests passed, tests warned."""
    statuses = [(entry.node.resource_type, str(entry.status)) for entry in result.result.results]
    tests = ("test", "unit_test")
    return (
        sum(1 for kind, status in statuses if kind == "model" and status == "success"),
        sum(1 for kind, status in statuses if kind in tests and status == "pass"),
        sum(1 for kind, status in statuses if kind in tests and status == "warn"),
    )


def _max_drop_share(extra_vars: dict[str, Any]) -> float:
    value = {**project_vars(), **extra_vars}["max_publish_drop_share"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise StepFailed("audit", f"var max_publish_drop_share must be a share from 0 to 1, got {value!r}", 2)
    return float(value)


def _audited_row(
    args: argparse.Namespace, result: dbtRunnerResult, new: publish.Facts, previous: publish.Facts | None,
    started: dt.datetime,
) -> publish.LogRow | None:
    """The publish log row of a build that passed its audits (or whose failed audits were
    overridden); None for a backfill of an earlier date, which publishes nothing."""
    try:
        stale = stale_message(check_sources(args.target if args.target != "duckdb" else None))
    except FreshnessError as error:
        raise StepFailed("audit", str(error), 2) from None
    failures = publish.audit(new, previous, _max_drop_share(args.vars), stale)
    overridden = sorted({failure.audit for failure in failures} & set(args.override))
    blocking = [failure for failure in failures if failure.audit not in overridden]
    if any(failure.audit == "as_of_date" for failure in blocking):
        print(f"{blocking[-1].message}. Nothing was published; override with --override as_of_date.")
        return None
    if blocking:
        raise StepFailed(
            "audit",
            "\n".join(f"[{failure.audit}] {failure.message}" for failure in blocking)
            + "\nNothing was published. To publish anyway: "
            + " ".join(f"--override {audit}" for audit in sorted({failure.audit for failure in blocking})),
            3,
        )
    for audit in overridden:
        print(f"publishing although the {audit} audit failed (--override {audit})")
    models, passed, warned = _counts(result)
    assert new.as_of_date is not None
    return publish.LogRow(
        publish.new_build_id(started), new.as_of_date, started, _utc_now(), models, passed, warned,
        ",".join(overridden), project_commit(),
    )


def cmd_run(args: argparse.Namespace) -> int:
    working, published = database_path(), published_path()
    exports = args.export_dir.resolve() if args.export_dir else export_dir()
    started = _utc_now()
    if args.target != "duckdb":
        return _run_on_server(args, exports, started)
    try:
        _prepare(published, exports)
        _check_raw(working, args)
        try:
            seeded = [] if args.no_history_seed else seed_history(working, args.as_of_date or _utc_now().date())
        except BackfillError as error:
            raise StepFailed("backfill", str(error), 1) from None
        if seeded:
            print(f"backfilled {', '.join(map(str, seeded))} into the empty history, for forward outcomes")
        print("building and testing in the working database ...")
        result = _build(args.as_of_date, args.vars)
        print("auditing the build ...")
        families = exclusive_families()
        with duckdb.connect(str(working), read_only=True) as con:
            new = publish.read_facts(lambda sql: con.execute(sql).fetchall(), families)
        row = _audited_row(args, result, new, publish.published_facts(published, families), started)
        if row is None:
            return 0
        staged = _publish(working, published, exports, row)
    except StepFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return failure.code
    except publish.DatabaseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
    print()
    print(summary(published))
    print(
        f"\npublished build {row.build_id} to {published}; exported {len(staged.segments)} segments "
        f"({staged.rows:,} rows, CSV and Parquet) to {exports / CURRENT}"
    )
    return 0


def _publish(working: Path, published: Path, exports: Path, row: publish.LogRow) -> StagedExport:
    """Write the published file and its exports beside the current ones, then swap both in."""
    print("publishing ...")
    published.parent.mkdir(parents=True, exist_ok=True)
    try:
        scratch = publish.write_published(working, published, row)
    except (duckdb.Error, OSError, publish.PublishError) as error:
        raise StepFailed("publish", str(error), 1) from None
    try:
        staged = stage_export(scratch, exports)
    except (duckdb.Error, OSError, ValueError) as error:
        publish.remove_scratch(published)
        raise StepFailed("export", str(error), 1) from None
    try:
        publish.swap_in(scratch, published)
    except OSError as error:
        discard(staged)
        publish.remove_scratch(published)
        raise StepFailed("publish", str(error), 1) from None
    switch_current(exports, staged)
    return staged


def _run_on_server(args: argparse.Namespace, exports: Path, started: dt.datetime) -> int:
    """``run --target postgres``: raw is on the server; dbt builds the marts into schema
    marts_working, and publishing copies them into marts in one transaction."""
    import psycopg2

    from audience import publish_postgres

    if args.regenerate:
        print("error: --regenerate makes demo data in DuckDB only; load raw on the server yourself", file=sys.stderr)
        return 2
    try:
        conn = publish_postgres.connect()
    except psycopg2.Error as error:
        print(f"error: check: cannot connect to PostgreSQL: {str(error).strip()}", file=sys.stderr)
        return 1
    try:
        for path in remove_scratch(exports):
            print(f"removed {path} (left by a killed run)")
        latest = publish_postgres.latest_publish(conn)
        if latest is not None and current_build_id(exports) != latest.build_id:
            switch_current(exports, publish_postgres.stage_published_export(conn, exports))
            print(f"re-exported published build {latest.build_id}: its export had not completed")
        missing = publish_postgres.missing_raw_tables(conn)
        if missing:
            raise StepFailed(
                "check", f"schema raw on the server lacks {', '.join(missing)}: load the raw tables (SPEC section 1)", 2
            )
        # dbt runs no Python here: the predictive models are fitted between building the
        # order-day summary and the rest (SPEC section 11; audience.predictive).
        print("fitting the predictive models ...")
        _build(args.as_of_date, args.vars, args.target, select="+int_customers_order_days_counted")
        predictive.load_into_postgres(
            conn, (args.as_of_date or _utc_now().date()).isoformat(), predictive.settings({**project_vars(), **args.vars})
        )
        print(f"building and testing in schema {publish_postgres.WORKING_SCHEMA} ...")
        result = _build(args.as_of_date, args.vars, args.target)
        print("auditing the build ...")
        families = exclusive_families()
        new = publish_postgres.working_facts(conn, families)
        row = _audited_row(args, result, new, publish_postgres.published_facts(conn, families), started)
        if row is None:
            return 0
        print("publishing ...")
        try:
            staged, notes = publish_postgres.publish_with_export(conn, row, project_vars()["bi_reader_role"], exports)
        except (psycopg2.Error, duckdb.Error, OSError, ValueError, publish.PublishError) as error:
            raise StepFailed("publish", str(error).strip(), 1) from None
        switch_current(exports, staged)
    except StepFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return failure.code
    except psycopg2.Error as error:
        print(f"error: PostgreSQL: {str(error).strip()}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    for note in notes:
        print(f"note: {note}")
    print(
        f"published build {row.build_id} (as of {row.as_of_date}) to schema {publish_postgres.PUBLISHED_SCHEMA}; "
        f"exported {len(staged.segments)} segments ({staged.rows:,} rows, CSV and Parquet) to {exports / CURRENT}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    published = published_path()
    folder = args.export_dir.resolve() if args.export_dir else export_dir()
    try:
        latest = publish.latest_publish(published)
    except publish.DatabaseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
    if latest is None:
        print(
            f"error: nothing has been published at {published}: exports are written from the published "
            "build only. Run make run (python -m audience run) first.",
            file=sys.stderr,
        )
        return 2
    remove_scratch(folder)
    try:
        staged = export_published(published, folder)
    except publish.DatabaseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
    print(
        f"exported build {staged.build_id} (as of {staged.as_of_date}): {len(staged.segments)} segments, "
        f"{staged.rows:,} rows, to {folder / CURRENT}"
    )
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
    try:
        publish.ensure_writable(database_path(), "working database", WORKING_ADVICE)
    except publish.DatabaseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
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
    published = published_path()
    if publish.latest_publish(published) is None:
        print(f"error: nothing has been published at {published}; run make run first.", file=sys.stderr)
        return 2
    print(summary(published))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="audience", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="demo data if absent; build and test, audit, publish, export; summary"
    )
    run.add_argument("--regenerate", action="store_true", help="regenerate the demo raw data first")
    run.add_argument("--profile", choices=PROFILES, default="demo", help="size of generated data")
    run.add_argument("--seed", type=int, default=42, help="seed of generated data")
    run.add_argument("--as-of-date", type=_date, help="build as of this date (default: today, UTC)")
    run.add_argument(
        "--vars", type=_vars, default={}, help="dbt vars for this build, as YAML or JSON: --vars '{holdout_pct: 20}'"
    )
    run.add_argument(
        "--no-history-seed",
        action="store_true",
        help="on a first run (empty history), do not backfill earlier dates for forward outcomes",
    )
    run.add_argument(
        "--override",
        action="append",
        default=[],
        choices=publish.OVERRIDABLE_AUDITS,
        help="publish although this audit failed (repeatable); recorded in marts.publish_log",
    )
    run.add_argument("--export-dir", type=Path, help="where segment files go (default: $AUDIENCE_EXPORT_DIR or exports/)")
    run.add_argument(
        "--target",
        choices=("duckdb", "postgres"),
        default="duckdb",
        help="dbt target: postgres builds in schema marts_working and publishes into marts (raw must be on the server)",
    )
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

    fill = commands.add_parser(
        "backfill", help="build every date of a range into the working database's history; never publishes"
    )
    fill.add_argument("--start", type=_date, required=True, help="first as-of date, YYYY-MM-DD")
    fill.add_argument("--end", type=_date, required=True, help="last as-of date, YYYY-MM-DD (included)")
    fill.add_argument("--no-test", action="store_true", help="skip dbt test on the last date")
    fill.set_defaults(handler=cmd_backfill)

    exp = commands.add_parser("export", help="re-export the published build (CSV + Parquet per segment)")
    exp.add_argument("--export-dir", type=Path, help="folder (default: $AUDIENCE_EXPORT_DIR or exports/)")
    exp.set_defaults(handler=cmd_export)

    summ = commands.add_parser("summary", help="print the summary of the published build")
    summ.set_defaults(handler=cmd_summary)

    preview.register(commands)

    args = parser.parse_args(argv)
    return int(args.handler(args))
