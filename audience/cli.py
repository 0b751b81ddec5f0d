"""Command line of the audience project.

Examples:
  python -m audience run                         build, test, audit, publish, export; summary
  python -m audience run --demo                  the same, generating demo data into an
                                                 explicitly set database that has no raw tables
  python -m audience run --target spark          the same on a local Apache Spark (raw tables
                                                 loaded from the working DuckDB file)
  python -m audience run --verbose               the same, with dbt's own output
  python -m audience generate --profile M        replace schema raw with 100k demo customers
  python -m audience backfill --start 2026-06-01 --end 2026-06-30
                                                 build a month of history (publishes nothing)
  python -m audience export                      re-export the published build
  python -m audience summary                     the full summary of the published build
  python -m audience preview --audience high_value_europe
                                                 size and sample of an audience, no build
  python -m audience ci-slim                     build what changed since the published build,
                                                 and its children, reading the rest from it
  python -m audience ci-empty                    models, seeds and unit tests on no data

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

# Only what the argument parser needs is imported here, so --help answers at once:
# dbt, duckdb and the modules that load them are imported by the commands that use them.
from audience import preview, publish, slim_ci
from audience.generate import PROFILES
from audience.project import (
    DATABASE_ENV,
    database_path,
    database_path_is_explicit,
    dbt_vars,
    exclusive_families,
    node_results,
    project_commit,
    project_vars,
    published_path,
    published_state_path,
    target_path,
)

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult

    from audience.export import StagedExport
    from audience.freshness import SourceAge
    from audience.raw_schema import Location, Locations
    from audience.warehouses import Warehouse


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from error


def _missing_raw_tables(database: Path, locations: Locations) -> list[str] | None:
    """Raw tables absent from their locations in the database, by qualified name; None
    when none of them is there at all."""
    import duckdb

    if not database.exists():
        return None
    with duckdb.connect(str(database), read_only=True) as con:
        missing = [
            location.relation(table)
            for table, location in locations.items()
            if not con.execute(
                "select count(*) from information_schema.tables "
                "where table_catalog = coalesce(?, current_database()) and table_schema = ? and table_name = ?",
                [location.database, location.schema, table],
            ).fetchall()[0][0]
        ]
    return None if len(missing) == len(locations) else missing


def _generate(
    database: Path,
    profile: str,
    as_of: dt.date | None,
    seed: int,
    parquet: Path | None,
    locations: dict[str, Location],
) -> None:
    from tqdm import tqdm

    from audience.generate import generate
    from audience.raw_schema import RAW_TABLES

    started = time.perf_counter()
    # disable=None: a progress bar on a terminal only, no carriage returns in a log.
    with tqdm(total=len(RAW_TABLES), desc=f"generating {profile}", unit="table", disable=None) as bar:

        def progress(table: str, rows: int) -> None:
            bar.set_postfix_str(f"{table}: {rows:,} rows")
            bar.update(1)

        counts = generate(
            database,
            profile=profile,
            as_of_date=as_of,
            seed=seed,
            parquet_dir=parquet,
            progress=progress,
            locations=locations,
        )
    schemas = ", ".join(sorted({location.schema for location in locations.values()}))
    print(
        f"generated {sum(counts.values()):,} raw rows into {database} (schema {schemas}) "
        f"in {time.perf_counter() - started:.1f} s"
    )


def cmd_generate(args: argparse.Namespace) -> int:
    from audience.generate import generate_next_day
    from audience.raw_schema import raw_locations

    locations = raw_locations(dbt_vars(args.vars))
    if args.append_day:
        try:
            counts = generate_next_day(database_path(), args.profile, args.append_day, args.seed, locations=locations)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"appended {sum(counts.values()):,} raw rows of {args.append_day} to {database_path()}")
        return 0
    _generate(database_path(), args.profile, args.as_of_date, args.seed, args.parquet, locations)
    return 0


class StepFailed(RuntimeError):
    """A step of the main command failed; nothing was published."""

    def __init__(self, step: str, reason: str, code: int) -> None:
        super().__init__(f"{step}: {reason}")
        self.code = code


WORKING_ADVICE = "wait for it to finish or stop it; BI tools and people read the published database instead"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _prepare(published: Path, exports: Path) -> None:
    """Remove what a killed run left, and re-export a build whose export a kill cut short."""
    from audience.export import current_build_id, export_published, remove_scratch

    for path in [*publish.remove_scratch(published), *remove_scratch(exports)]:
        print(f"removed {path} (left by a killed run)")
    latest = publish.latest_publish(published)
    if latest is not None and current_build_id(exports) != latest.build_id:
        staged = export_published(published, exports)
        print(f"re-exported published build {staged.build_id}: its export had not completed")


def _check_raw(database: Path, args: argparse.Namespace) -> None:
    import duckdb

    from audience.raw_schema import contract_problems, raw_locations

    locations = raw_locations(dbt_vars(args.vars))
    publish.ensure_writable(database, "working database", WORKING_ADVICE)
    missing = _missing_raw_tables(database, locations)
    if missing is None and database_path_is_explicit() and not (args.demo or args.regenerate):
        # Demo data is generated unasked only into the default working database: a path
        # set on purpose is meant to hold real raw tables (or a typo of their path).
        found = "does not exist" if not database.exists() else "has no raw tables"
        raise StepFailed(
            "check",
            f"{database} (set by ${DATABASE_ENV}) {found}. Load the raw tables there (SPEC section 1, "
            "docs/raw_tables.md), fix the path, or generate demo data into it with run --demo.",
            2,
        )
    if args.regenerate and database.exists():
        # New demo data starts the demo over: what was built from the old data (incremental
        # tables, the history) would not match it, so the working database is replaced.
        print(f"replacing {database} (--regenerate)")
        for path in (database, database.with_name(database.name + ".wal")):
            path.unlink(missing_ok=True)
    if missing is None or args.regenerate:
        _generate(database, args.profile, args.as_of_date, args.seed, None, locations)
    with duckdb.connect(str(database), read_only=True) as con:
        problems = contract_problems(con, locations)
    if problems:
        raise StepFailed(
            "check",
            f"{database} does not hold the raw tables of the input contract (SPEC section 1):\n  - "
            + "\n  - ".join(problems)
            + "\nLoad them as the contract says, or regenerate the demo data with make run ARGS=--regenerate.",
            2,
        )


def _vars(text: str) -> dict[str, Any]:
    import yaml

    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise argparse.ArgumentTypeError(f"--vars must be a YAML or JSON mapping: {error}") from error
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError(f"--vars must be a YAML or JSON mapping, got {text!r}")
    return parsed


def _vars_args(as_of: dt.date | None, extra_vars: dict[str, Any]) -> list[str]:
    """dbt's --vars for a build as of ``as_of`` with ``extra_vars`` (none when empty)."""
    dbt_vars = {**extra_vars, **({"as_of_date": as_of.isoformat()} if as_of else {})}
    return ["--vars", json.dumps(dbt_vars, default=str)] if dbt_vars else []


def _build(
    as_of: dt.date | None,
    extra_vars: dict[str, Any],
    verbose: bool,
    target: str | None = None,
    select: str | None = None,
) -> dbtRunnerResult:
    from audience.progress import build

    result = build(
        [
            "build",
            *_vars_args(as_of, extra_vars),
            *(["--target", target] if target else []),
            # A part of the DAG runs only the tests whose every parent it builds: a test
            # between a selected model and one outside (a relationship) would read a
            # relation not built yet; the full build that follows runs it.
            *(["--select", select, "--indirect-selection", "cautious"] if select else []),
        ],
        verbose,
    )
    if result.success:
        return result
    problems = [str(result.exception)] if result.exception else []
    problems += [
        f"{entry.node.resource_type} {entry.node.name}: {str(entry.message).strip().splitlines()[0]}"
        for entry in node_results(result)
        if str(entry.status) in ("error", "fail")
    ]
    holders = [holder for holder in map(publish.holder_of_lock, problems) if holder]
    if holders:
        raise StepFailed("build", f"the working database is held open by {holders[0]}; {WORKING_ADVICE}", 4)
    raise StepFailed("build", "dbt build failed:\n  - " + "\n  - ".join(problems or ["see logs/dbt.log"]), 1)


def _max_drop_share(extra_vars: dict[str, Any]) -> float:
    value = dbt_vars(extra_vars)["max_publish_drop_share"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise StepFailed("audit", f"var max_publish_drop_share must be a share from 0 to 1, got {value!r}", 2)
    return float(value)


def _freshness(args: argparse.Namespace) -> list[SourceAge]:
    """The freshness of every raw table (the audit's first part; the report shows it)."""
    from audience.freshness import FreshnessError, check_sources

    try:
        return check_sources(args.target if args.target != "duckdb" else None, args.vars)
    except FreshnessError as error:
        raise StepFailed("audit", str(error), 2) from None


def _freshness_rows(ages: list[SourceAge]) -> list[dict[str, str]]:
    """Freshness as the export manifest and the report record it."""
    from audience.freshness import human_age

    return [{"table": age.table, "status": age.status, "age": human_age(age.age_seconds)} for age in ages]


def _audited_row(
    args: argparse.Namespace,
    result: dbtRunnerResult,
    new: publish.Facts,
    previous: publish.Facts | None,
    started: dt.datetime,
    ages: list[SourceAge],
) -> publish.LogRow | None:
    """The publish log row of a build that passed its audits (or whose failed audits were
    overridden); None for a backfill of an earlier date, which publishes nothing."""
    from audience.freshness import stale_message
    from audience.progress import NodeCounts

    stale = stale_message(ages, args.vars)
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
    counts = NodeCounts.of(result)
    assert new.as_of_date is not None
    return publish.LogRow(
        publish.new_build_id(started),
        new.as_of_date,
        started,
        _utc_now(),
        counts.models_built,
        counts.tests_passed,
        counts.tests_warned,
        ",".join(overridden),
        project_commit(),
    )


def cmd_run(args: argparse.Namespace) -> int:
    import duckdb

    from audience.backfill import BackfillError, seed_history
    from audience.export import CURRENT, export_dir
    from audience.report import brief_summary, summary

    working, published = database_path(), published_path()
    exports = args.export_dir.resolve() if args.export_dir else export_dir()
    started = _utc_now()
    if args.target != "duckdb":
        return _run_on_server(args, exports, started)
    try:
        _prepare(published, exports)
        _check_raw(working, args)
        try:
            seeded = (
                [] if args.no_history_seed else seed_history(working, args.as_of_date or _utc_now().date(), args.vars)
            )
        except BackfillError as error:
            raise StepFailed("backfill", str(error), 1) from None
        if seeded:
            print(f"backfilled {', '.join(map(str, seeded))} into the empty history, for forward outcomes")
        print("building and testing in the working database ...")
        result = _build(args.as_of_date, args.vars, args.verbose)
        manifest = _built_manifest()
        print("auditing the build ...")
        families = exclusive_families()
        with duckdb.connect(str(working), read_only=True) as con:
            new = publish.read_facts(lambda sql: con.execute(sql).fetchall(), families)
        ages = _freshness(args)
        row = _audited_row(args, result, new, publish.published_facts(published, families), started, ages)
        if row is None:
            return 0
        staged = _publish(working, published, exports, row, _freshness_rows(ages))
        _keep_state(manifest, published)
    except StepFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return failure.code
    except publish.DatabaseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
    print()
    print(summary(published) if args.verbose else brief_summary(published))
    print(
        f"\npublished build {row.build_id} to {published}; exported {len(staged.segments)} segments "
        f"({staged.rows:,} rows, CSV and Parquet) to {exports / CURRENT}"
    )
    return 0


def _built_manifest() -> bytes | None:
    """The dbt manifest the build just wrote (read at once: later dbt commands rewrite it)."""
    try:
        return (target_path() / publish.DBT_MANIFEST).read_bytes()
    except OSError:
        return None


def _keep_state(manifest: bytes | None, published: Path) -> None:
    """Keep the published build's manifest for slim CI; publishing is done either way."""
    state = published_state_path(published)
    try:
        if manifest is None:
            raise OSError(f"dbt wrote no {publish.DBT_MANIFEST} in {target_path()}")
        publish.keep_state(manifest, state)
    except OSError as error:
        print(f"warning: the build's dbt manifest was not kept in {state} (slim CI compares with it): {error}")


def _publish(
    working: Path, published: Path, exports: Path, row: publish.LogRow, freshness: list[dict[str, str]]
) -> StagedExport:
    """Write the published file, its exports and report beside the current ones, then swap
    both in."""
    import duckdb

    from audience.export import discard, stage_export, switch_current

    print("publishing ...")
    published.parent.mkdir(parents=True, exist_ok=True)
    try:
        scratch = publish.write_published(working, published, row)
    except (duckdb.Error, OSError, publish.PublishError) as error:
        raise StepFailed("publish", str(error), 1) from None
    try:
        staged = stage_export(scratch, exports, freshness)
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


def _open_warehouse(args: argparse.Namespace) -> Warehouse:
    """The server engine of ``--target`` (audience.warehouses), connected."""
    from audience import warehouses

    if args.target == "spark":
        try:
            return warehouses.Spark(_dbt_args(args))
        except RuntimeError as error:
            raise StepFailed("check", str(error), 1) from None
    import psycopg2

    try:
        return warehouses.Postgres()
    except psycopg2.Error as error:
        raise StepFailed("check", f"cannot connect to PostgreSQL: {str(error).strip()}", 1) from None


def _dbt_args(args: argparse.Namespace) -> list[str]:
    """The --vars of a run's dbt commands other than the builds (the same in each, so
    dbt parses the project once)."""
    return _vars_args(args.as_of_date, args.vars)


def _raw_on_server(warehouse: Warehouse, args: argparse.Namespace) -> None:
    """Check that the server holds the raw tables; on an engine that can load demo data
    (Spark), load the working DuckDB file's raw tables (generated when it has none, as
    on DuckDB) into a catalog that has none, or anew with --regenerate."""
    from audience.raw_schema import raw_locations

    locations = raw_locations(dbt_vars(args.vars))
    missing = warehouse.missing_raw_tables(locations)
    if warehouse.loads_raw and (len(missing) == len(locations) or args.regenerate):
        working = database_path()
        _check_raw(working, args)
        print(f"loading the raw tables of {working} into {warehouse.name} ...")
        try:
            counts = warehouse.load_raw(working, _dbt_args(args))
        except RuntimeError as error:
            raise StepFailed("load", str(error), 1) from None
        print(f"loaded {sum(counts.values()):,} raw rows")
    elif args.regenerate:
        raise StepFailed("check", "--regenerate makes demo data in DuckDB only; load raw on the server yourself", 2)
    elif missing:
        raise StepFailed(
            "check", f"{warehouse.name} lacks {', '.join(missing)}: load the raw tables (SPEC section 1)", 2
        )


def _run_on_server(args: argparse.Namespace, exports: Path, started: dt.datetime) -> int:
    """``run --target postgres`` or ``--target spark``: raw is on the server (on Spark,
    loaded from DuckDB when absent); dbt builds the marts into schema marts_working, the
    predictive models are fitted between two dbt calls, and publishing makes the build
    what readers see as that engine allows (audience.warehouses)."""
    import duckdb

    from audience import predictive
    from audience.export import CURRENT, current_build_id, remove_scratch, switch_current

    try:
        warehouse = _open_warehouse(args)
    except StepFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return failure.code
    try:
        for path in remove_scratch(exports):
            print(f"removed {path} (left by a killed run)")
        latest = warehouse.latest_publish()
        if latest is not None and current_build_id(exports) != latest.build_id:
            switch_current(exports, warehouse.stage_published_export(exports))
            print(f"re-exported published build {latest.build_id}: its export had not completed")
        _raw_on_server(warehouse, args)
        # dbt runs no Python here: the predictive models are fitted between building the
        # order-day summary and the rest (SPEC section 11; audience.predictive).
        print("fitting the predictive models ...")
        _build(args.as_of_date, args.vars, args.verbose, args.target, select="+int_customers_order_days_counted")
        warehouse.load_fit((args.as_of_date or _utc_now().date()).isoformat(), predictive.settings(dbt_vars(args.vars)))
        print("building and testing in schema marts_working ...")
        result = _build(args.as_of_date, args.vars, args.verbose, args.target)
        print("auditing the build ...")
        families = exclusive_families()
        new = warehouse.working_facts(families)
        ages = _freshness(args)
        row = _audited_row(args, result, new, warehouse.published_facts(families), started, ages)
        if row is None:
            return 0
        print("publishing ...")
        failures: tuple[type[BaseException], ...] = (
            *warehouse.errors,
            duckdb.Error,
            OSError,
            ValueError,
            publish.PublishError,
        )
        try:
            staged, notes = warehouse.publish(row, project_vars()["bi_reader_role"], exports, _freshness_rows(ages))
        except failures as error:
            raise StepFailed("publish", str(error).strip(), 1) from None
        switch_current(exports, staged)
    except StepFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return failure.code
    except warehouse.errors as error:
        print(f"error: {warehouse.name}: {str(error).strip()}", file=sys.stderr)
        return 1
    finally:
        warehouse.close()
    for note in notes:
        print(f"note: {note}")
    print(
        f"published build {row.build_id} (as of {row.as_of_date}) to {warehouse.published_where}; "
        f"exported {len(staged.segments)} segments ({staged.rows:,} rows, CSV and Parquet) to {exports / CURRENT}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from audience.export import CURRENT, export_dir, export_published, remove_scratch

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


def _missing_raw_error(database: Path, locations: Locations) -> str | None:
    missing = _missing_raw_tables(database, locations)
    if missing is None:
        return f"{database} has no raw tables: load them (SPEC section 1) or run python -m audience generate."
    if missing:
        return f"{database} has a raw schema without these tables: {', '.join(missing)}."
    return None


def cmd_backfill(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from audience.backfill import BackfillError, backfill, dates_between
    from audience.raw_schema import raw_locations

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
    problem = _missing_raw_error(database_path(), raw_locations(dbt_vars(args.vars)))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    with tqdm(total=len(dates), desc="backfill", unit="date") as bar:

        def progress(date: dt.date, seconds: float) -> None:
            bar.set_postfix_str(f"{date} in {seconds:.1f} s")
            bar.update(1)

        try:
            result = backfill(dates, run_tests=not args.no_test, on_date=progress, extra_vars=args.vars)
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
    from audience.report import summary

    published = published_path()
    if publish.latest_publish(published) is None:
        print(f"error: nothing has been published at {published}; run make run first.", file=sys.stderr)
        return 2
    print(summary(published))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from audience.export import CURRENT, MANIFEST, export_dir
    from audience.report_html import write_report

    published = published_path()
    latest = publish.latest_publish(published)
    if latest is None:
        print(f"error: nothing has been published at {published}; run make run first.", file=sys.stderr)
        return 2
    # The freshness the run checked, when the current export is of the same build.
    manifest = export_dir() / CURRENT / MANIFEST
    recorded = json.loads(manifest.read_text()) if manifest.is_file() else {}
    freshness = recorded.get("freshness", []) if recorded.get("build_id") == latest.build_id else []
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with publish.read_only(published) as con:
        write_report(con, out, freshness)
    print(f"wrote the report of build {latest.build_id} (data as of {latest.as_of_date}) to {out}")
    return 0


def _examples(*lines: str) -> str:
    return "example" + ("s" if len(lines) > 1 else "") + ":\n" + "\n".join(f"  {line}" for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="audience", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str, *examples: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_examples(*examples),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = add(
        "run",
        "build and test, audit, publish, export; summary (demo data first when the default working "
        "database has no raw tables)",
        "python -m audience run",
        "python -m audience run --as-of-date 2026-06-30 --vars '{holdout_pct: 20}'",
        "AUDIENCE_DUCKDB_PATH=/tmp/try.duckdb python -m audience run --demo",
    )
    run.add_argument(
        "--regenerate",
        action="store_true",
        help="start the demo over: replace the working database with fresh demo data (as of --as-of-date)",
    )
    run.add_argument(
        "--demo",
        action="store_true",
        help="generate demo data when the working database has no raw tables, also at a path set by "
        "$AUDIENCE_DUCKDB_PATH (without it, such a path must already hold them)",
    )
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
    run.add_argument(
        "--export-dir", type=Path, help="where segment files go (default: $AUDIENCE_EXPORT_DIR or exports/)"
    )
    run.add_argument(
        "--target",
        choices=("duckdb", "postgres", "spark"),
        default="duckdb",
        help="dbt target: postgres and spark build in schema marts_working and publish into marts (raw must be "
        "on PostgreSQL; a local Spark without raw tables gets the working DuckDB file's, demo data unless set)",
    )
    run.add_argument(
        "--verbose",
        action="store_true",
        help="show dbt's own output instead of the progress line, and the full summary",
    )
    run.set_defaults(handler=cmd_run)

    gen = add(
        "generate",
        "replace schema raw with synthetic data",
        "python -m audience generate --profile M --seed 7",
        "python -m audience generate --append-day 2026-07-01",
    )
    gen.add_argument("--profile", choices=PROFILES, default="demo", help="demo 10k, M 100k, L 1M customers")
    gen.add_argument("--seed", type=int, default=42, help="seed: same seed and date, same data")
    gen.add_argument("--as-of-date", type=_date, help="data up to this date (default: today, UTC)")
    gen.add_argument("--parquet", type=Path, help="also write each raw table as Parquet into this folder")
    gen.add_argument("--vars", type=_vars, default={}, help="dbt vars, as for run: where the sources go")
    gen.add_argument(
        "--append-day",
        type=_date,
        help="instead, append this one day to data generated as of it (same profile and seed)",
    )
    gen.set_defaults(handler=cmd_generate)

    fill = add(
        "backfill",
        "build every date of a range into the working database's history; never publishes",
        "python -m audience backfill --start 2026-06-01 --end 2026-06-30",
    )
    fill.add_argument("--start", type=_date, required=True, help="first as-of date, YYYY-MM-DD")
    fill.add_argument("--end", type=_date, required=True, help="last as-of date, YYYY-MM-DD (included)")
    fill.add_argument("--no-test", action="store_true", help="skip dbt test on the last date")
    fill.add_argument("--vars", type=_vars, default={}, help="dbt vars for every date, as for run")
    fill.set_defaults(handler=cmd_backfill)

    exp = add(
        "export",
        "re-export the published build (CSV + Parquet per segment)",
        "python -m audience export --export-dir /srv/exports",
    )
    exp.add_argument("--export-dir", type=Path, help="folder (default: $AUDIENCE_EXPORT_DIR or exports/)")
    exp.set_defaults(handler=cmd_export)

    summ = add("summary", "print the full summary of the published build", "python -m audience summary")
    summ.set_defaults(handler=cmd_summary)

    rep = add(
        "report",
        "write the HTML report of the published build again (every publish writes one into its exports)",
        "python -m audience report --out /tmp/segments.html",
    )
    rep.add_argument("--out", type=Path, default=Path("report.html"), help="file to write (default: report.html)")
    rep.set_defaults(handler=cmd_report)

    preview.register(commands)
    slim_ci.register(commands, _vars)

    args = parser.parse_args(argv)
    return int(args.handler(args))
