"""Engines benchmark: ``python -m audience.bench_engines [--profiles S demo] [--out bench/engines]
[--as-of-date 2026-06-30] [--seed 3]``.

The full ``dbt build`` of the project on DuckDB, PostgreSQL and a local Apache Spark at
each profile, on this machine in one run, so that the times compare. Each profile's raw
data is generated once into a DuckDB file, which DuckDB builds on; PostgreSQL (one
throwaway server for the run, audience.postgres, emptied before each profile) and Spark
(a new metastore and warehouse per profile, audience.spark) build on a copy of its raw
tables, loaded first and timed apart. Every load and build runs in its own process and
is timed with the peak resident memory of its process tree (audience.bench.run_measured).
Writes ``<out>/engines.json`` and ``<out>/engines.md`` and prints the markdown.

An engine that cannot run here (no PostgreSQL server could be installed or started; no
Java, dbt-spark or pyspark for Spark) is skipped with the reason. Exit codes: 0 when every
engine that could run was measured; 1 when a load or a build failed (its row says which,
the JSON where its log is; the other engines are still measured); 2 for a wrong argument.

Everything lives under ``<out>/<profile>/``: ``audience.duckdb`` and a folder per engine
with each step's output, dbt's target and logs (and Spark's catalog); it is replaced on
each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from contextlib import ExitStack
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from audience import postgres, spark
from audience.bench import (
    DATABASE_ENV,
    DEFAULT_AS_OF,
    PROJECT_DIR,
    StepFailed,
    dbt_build_command,
    machine,
    run_measured,
)
from audience.generate import PROFILES, generate
from audience.postgres import Server

#: The engines in the order they run and appear, with their names in the report.
ENGINES = {"duckdb": "DuckDB", "postgres": "PostgreSQL", "spark": "Spark (local)"}
DEFAULT_PROFILES = ["S", "demo"]
#: The seed of the engine-equality suites (pytests/test_postgres.py, test_spark.py).
DEFAULT_SEED = 3
#: Spark in the dbt process (method session) as pytests/test_spark.py runs it: on the
#: loopback address, with UTC as the local time zone PySpark hands timestamps over in.
SPARK_ENV = {"SPARK_LOCAL_IP": "127.0.0.1", "TZ": "UTC"}
#: Packages whose versions the report names.
PACKAGES = ("dbt-core", "dbt-duckdb", "dbt-postgres", "dbt-spark", "pyspark")


# --- Steps run in their own process -------------------------------------------------------


def _worker(args: argparse.Namespace) -> int:
    """Load the raw tables of ``args.database`` into an engine: PostgreSQL (the server
    ``AUDIENCE_PG_*`` names) or Spark (the catalog under ``AUDIENCE_SPARK_DIR``)."""
    if args.step == "postgres-load":
        counts = postgres.load_raw(args.database, Server.from_env(os.environ))
        print(f"loaded {sum(counts.values()):,} raw rows into PostgreSQL: {counts}")
        return 0
    counts, result = spark.load_raw(
        args.database, ["--target", "spark", "--target-path", str(args.target_path), "--log-path", str(args.log_path)]
    )
    if not result.success:
        print(f"dbt run-operation load_raw_from_parquet failed: {result.exception}", file=sys.stderr)
        return 1
    print(f"loaded {sum(counts.values()):,} raw rows into Spark: {counts}")
    return 0


# --- The benchmark ------------------------------------------------------------------------


def _empty(server: Server) -> None:
    """Drop every schema the build's role owns (raw, staging, intermediate, seeds,
    marts_working, predictive_loaded, ...): a profile's build on PostgreSQL then starts
    from an empty database, as DuckDB's does on its new file."""
    pg = server.connect()
    try:
        with pg.cursor() as cur:
            cur.execute(
                "select nspname from pg_namespace "
                "where nspowner = (select oid from pg_roles where rolname = current_user)"
            )
            for (schema,) in cur.fetchall():
                cur.execute(f'drop schema "{schema}" cascade')
        pg.commit()
    finally:
        pg.close()


def _server_version(server: Server) -> str:
    pg = server.connect()
    try:
        with pg.cursor() as cur:
            cur.execute("show server_version")
            return str(cur.fetchall()[0][0])
    finally:
        pg.close()


def _measure_engine(
    engine: str, folder: Path, steps: list[tuple[str, list[str]]], env: dict[str, str]
) -> dict[str, Any]:
    """Run one engine's steps in order, each measured, its output in ``<folder>/<step>.log``;
    the first that fails ends the engine's run at this profile, recorded, so that the other
    engines are still measured."""
    measured: dict[str, Any] = {}
    for step, command in steps:
        log = folder / f"{step}.log"
        try:
            measured[step] = asdict(run_measured(f"{ENGINES[engine]} {step}", command, log, env))
        except StepFailed as error:
            print(f"error: {error}", file=sys.stderr)
            return {**measured, "failed": step, "log": str(log)}
    return measured


def _worker_command(step: str, database: Path, *extra: str) -> list[str]:
    """A load run by this module in a process of its own."""
    return [sys.executable, "-m", "audience.bench_engines", "--step", step, "--database", str(database), *extra]


def _build_command(folder: Path, engine: str, as_of: dt.date) -> list[str]:
    return [*dbt_build_command(folder / "target", folder / "logs", as_of), "--target", engine]


def measure_profile(
    profile: str, out: Path, as_of: dt.date, seed: int, server: Server | None, skipped: dict[str, str]
) -> dict[str, Any]:
    """Generate the profile's raw data and measure each engine's load and build on it;
    ``server`` is the PostgreSQL server (None when ``skipped`` names PostgreSQL)."""
    work = out / profile
    shutil.rmtree(work, ignore_errors=True)
    database = work / "audience.duckdb"
    print(f"profile {profile} ({PROFILES[profile]:,} customers) as of {as_of}, seed {seed}, in {work}", flush=True)
    raw_rows = generate(database, profile=profile, as_of_date=as_of, seed=seed)
    print(f"  generated {sum(raw_rows.values()):,} raw rows", flush=True)
    engines: dict[str, Any] = {}
    for engine in ENGINES:
        folder = work / engine
        if engine in skipped:
            engines[engine] = {"skipped": skipped[engine]}
            continue
        steps = [("build", _build_command(folder / "build", engine, as_of))]
        if engine == "duckdb":
            env = {DATABASE_ENV: str(database)}
        elif engine == "postgres":
            assert server is not None
            _empty(server)
            env = server.env()
            steps.insert(0, ("load", _worker_command("postgres-load", database)))
        else:
            catalog = folder / "catalog"
            catalog.mkdir(parents=True)
            env = {spark.SPARK_DIR_ENV: str(catalog), **SPARK_ENV}
            # dbt's target and logs of the run-operation beside the build's, not shared with them.
            dbt_folders = [
                "--target-path",
                str(folder / "load" / "target"),
                "--log-path",
                str(folder / "load" / "logs"),
            ]
            steps.insert(0, ("load", _worker_command("spark-load", database, *dbt_folders)))
        engines[engine] = _measure_engine(engine, folder, steps, {**os.environ, **env})
    for engine, result in engines.items():
        if (ratio := build_to_duckdb(engines, engine)) is not None:
            result["build_to_duckdb"] = ratio
    return {
        "profile": profile,
        "customers": PROFILES[profile],
        "raw_rows": sum(raw_rows.values()),
        "raw_rows_per_table": raw_rows,
        "engines": engines,
    }


def build_to_duckdb(engines: dict[str, Any], engine: str) -> float | None:
    """An engine's build wall time over DuckDB's at the same profile (None unless both
    were measured)."""
    if "build" not in engines.get("duckdb", {}) or "build" not in engines[engine]:
        return None
    return float(engines[engine]["build"]["seconds"]) / float(engines["duckdb"]["build"]["seconds"])


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def run(profiles: list[str], out: Path, as_of: dt.date, seed: int) -> dict[str, Any]:
    """Measure every profile on every engine that can run here; return the figures."""
    skipped: dict[str, str] = {}
    if (reason := spark.unavailable()) is not None:
        skipped["spark"] = reason
    with ExitStack() as stack:
        server: Server | None = None
        try:
            server = stack.enter_context(postgres.throwaway_server())
        except postgres.PostgresUnavailable as error:
            skipped["postgres"] = str(error)
        for engine, reason in skipped.items():
            print(f"{ENGINES[engine]} skipped: {reason}", flush=True)
        measured = [measure_profile(profile, out, as_of, seed, server, skipped) for profile in profiles]
        postgres_version = None if server is None else _server_version(server)
    return {
        "as_of_date": as_of.isoformat(),
        "seed": seed,
        "machine": {
            **machine(),
            "postgresql": postgres_version,
            **{package: _version(package) for package in PACKAGES},
        },
        "skipped": skipped,
        "profiles": measured,
    }


def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f} MiB"


def markdown(figures: dict[str, Any]) -> str:
    """The figures as a markdown table: a row per profile and engine."""
    machine = figures["machine"]
    versions = ", ".join(
        f"{name} {machine[name]}" for name in ("duckdb", "postgresql", *PACKAGES) if machine.get(name) is not None
    )
    lines = [
        "# `dbt build` on three engines",
        "",
        f"As of {figures['as_of_date']}, seed {figures['seed']}; {machine['cpus']} CPUs, "
        f"Python {machine['python']}, {versions}.",
        "",
        "| profile | engine | raw rows | raw load | build wall time | build / DuckDB's | build peak RSS |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for entry in figures["profiles"]:
        start = f"| {entry['profile']} | {{}} | {entry['raw_rows']:,} |"
        for engine, name in ENGINES.items():
            result = entry["engines"][engine]
            if "skipped" in result:
                lines.append(f"{start.format(name)} skipped | – | – | – |")
                continue
            load = result.get("load")
            load_cell = "–" if load is None else f"{load['seconds']:.1f} s ({_mib(load['peak_rss_bytes'])})"
            if "failed" in result:
                lines.append(f"{start.format(name)} {load_cell} | {result['failed']} failed | – | – |")
                continue
            build = result["build"]
            ratio = build_to_duckdb(entry["engines"], engine)
            lines.append(
                f"{start.format(name)} {load_cell} | {build['seconds']:.1f} s "
                f"| {'–' if ratio is None else f'{ratio:.2f}×'} | {_mib(build['peak_rss_bytes'])} |"
            )
    lines += [
        "",
        "Raw load: the raw tables copied from the generated DuckDB file (PostgreSQL: CSV and "
        "COPY; Spark: Parquet and `dbt run-operation load_raw_from_parquet`), with its peak RSS. "
        "Build: `dbt build` in a `dbt` process of its own, start-up and parse included. DuckDB's "
        "build fits the predictive models in its Python models; PostgreSQL's and Spark's, a first "
        "build, read no loaded fit (the tooling fits it outside dbt), so their scores are null. "
        "Peak RSS: the step's process tree, which holds Spark's JVM but not the PostgreSQL server.",
    ]
    lines += [f"\n{ENGINES[engine]} skipped: {reason}" for engine, reason in figures["skipped"].items()]
    return "\n".join(lines) + "\n"


def _failed(figures: dict[str, Any]) -> list[str]:
    return [
        f"{ENGINES[engine]} {result['failed']} at profile {entry['profile']} (log: {result['log']})"
        for entry in figures["profiles"]
        for engine, result in entry["engines"].items()
        if "failed" in result
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audience.bench_engines", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "--profiles",
        nargs="+",
        choices=PROFILES,
        default=DEFAULT_PROFILES,
        help=f"data sizes, in order (default {' '.join(DEFAULT_PROFILES)})",
    )
    parser.add_argument(
        "--out", type=Path, default=PROJECT_DIR / "bench" / "engines", help="output folder (default bench/engines)"
    )
    parser.add_argument(
        "--as-of-date", type=dt.date.fromisoformat, default=DEFAULT_AS_OF, help=f"as-of date (default {DEFAULT_AS_OF})"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"seed of the generated data (default {DEFAULT_SEED})"
    )
    # One load in its own process, so that it is timed and its memory measured alone (internal).
    parser.add_argument("--step", choices=["postgres-load", "spark-load"], help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--target-path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--log-path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        return _worker(args)
    out = args.out.resolve()
    figures = run(args.profiles, out, args.as_of_date, args.seed)
    report = markdown(figures)
    (out / "engines.json").write_text(json.dumps(figures, indent=2) + "\n")
    (out / "engines.md").write_text(report)
    print()
    print(report)
    if failed := _failed(figures):
        print("error: failed: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
