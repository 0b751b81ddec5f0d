"""Benchmark: ``python -m audience.bench --profile demo|M|L [--out bench/] [--floor SCRIPT]``.

Generates raw data at a profile, runs a full ``dbt build``, publishes it (the published
file and its exports, as ``run`` does after its audits), appends one day and runs the
daily build, rebuilds a copy of that with ``--full-refresh`` and compares every relation
row for row (exit 1 when they differ), then runs the same compiled SQL of every model straight in one DuckDB
session (the baseline). Every step runs in its own process and is timed with the peak
resident memory of its whole process tree, sampled from ``/proc``. Writes
``<out>/<profile>.md`` and ``<out>/<profile>.json`` and prints the markdown.

Everything lives under ``<out>``: the database ``<profile>.duckdb`` and ``<profile>/`` with
the raw-only copy the baseline runs on (``baseline/<profile>.duckdb``, same file name so
the compiled SQL's catalog name resolves), dbt's target and logs, and each step's log;
all of it is replaced on each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import graphlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from audience import publish
from audience.export import stage_export, switch_current
from audience.generate import PROFILES, generate, generate_next_day
from audience.raw_schema import RAW_SCHEMA, RAW_TABLES

# As in audience.project, which is not imported: it imports dbt (3.5 s and 100 MB more in
# every step's process, measured with the step).
PROJECT_DIR = Path(__file__).resolve().parent.parent
DATABASE_ENV = "AUDIENCE_DUCKDB_PATH"
DEFAULT_AS_OF = dt.date(2026, 6, 30)
SAMPLE_SECONDS = 0.1
SLOWEST = 10
THROUGHPUT_TABLES = 3
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
#: The schemas whose relations an incremental build and a --full-refresh build of the same
#: data must hold identically, and the columns that record when a row was classified or
#: built (they differ between two builds by design).
COMPARED_SCHEMAS = ("staging", "intermediate", "marts")
RUN_COLUMNS = frozenset({"dq_processed_at", "built_at"})


# --- Process-tree memory ------------------------------------------------------------------


def _parents() -> dict[int, int]:
    """Parent pid of every process, from ``/proc/<pid>/stat``."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                text = stat.read()
        except OSError:  # the process ended meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = text[text.rindex(b")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def _resident_bytes(pid: int) -> int:
    """Resident memory of one process (0 when it has ended)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> int:
    """Sum of the resident memory of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _resident_bytes(pid)
        todo.extend(children.get(pid, []))
    return total


@dataclass
class Measured:
    """Wall time and peak process-tree memory of one step."""

    seconds: float
    peak_rss_bytes: int


class StepFailed(RuntimeError):
    """A step's process exited with an error."""


def run_measured(name: str, command: list[str], log: Path, env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` from the project directory, output to ``log``; time it and sample the
    resident memory of its process tree every ``SAMPLE_SECONDS``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
    if process.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise StepFailed(f"{name} failed (exit {process.returncode}); last lines of {log}:\n{tail}")
    print(f"  {name}: {seconds:.1f} s, peak {peak / 2**20:,.0f} MiB", flush=True)
    return Measured(seconds=seconds, peak_rss_bytes=peak)


# --- Steps run in their own process -------------------------------------------------------


def _model_order(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Model nodes in dependency order (ties by id, so the order is stable)."""
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for uid in sorted(models):
        sorter.add(uid, *sorted(dep for dep in models[uid]["depends_on"]["nodes"] if dep in models))
    return [models[uid] for uid in sorter.static_order()]


def _step_baseline(database: Path, manifest_path: Path, timings_path: Path, built: Path) -> None:
    """Load the seeds from their CSVs (with the column types their YAML declares) and run
    every model's compiled SQL in one DuckDB session, in dependency order, each as
    ``create or replace table|view <relation> as <compiled SQL>`` (incremental models as
    tables: on a first build their SQL selects everything)."""
    manifest = json.loads(manifest_path.read_text())
    seeds = [node for node in manifest["nodes"].values() if node["resource_type"] == "seed"]
    models = _model_order(manifest)
    timings: dict[str, float] = {}
    con = duckdb.connect(str(database))
    # The settings profiles.yml gives dbt's DuckDB session (same default memory limit).
    con.execute(f"set memory_limit = '{publish.session_config()['memory_limit']}'")
    con.execute("set preserve_insertion_order = false")
    # Compiled SQL names relations "<catalog>"."<schema>"."<name>", the catalog being the
    # built file's name: the copy has the same name in another folder.
    catalog = con.execute("select current_database()").fetchall()[0][0]
    con.execute(f"attach '{built}' as built (read_only)")
    if catalog != models[0]["database"]:
        raise ValueError(f"the baseline database is {catalog!r}, the compiled SQL reads {models[0]['database']!r}")
    started = time.perf_counter()
    for seed in seeds:
        began = time.perf_counter()
        types = ", ".join(f"'{column}': '{data_type}'" for column, data_type in seed["config"]["column_types"].items())
        csv = PROJECT_DIR / seed["original_file_path"]
        con.execute(f'create schema if not exists "{seed["database"]}"."{seed["schema"]}"')
        con.execute(
            f"create or replace table {seed['relation_name']} as "
            f"select * from read_csv('{csv}', header = true, types = {{{types}}})"
        )
        timings[seed["unique_id"]] = time.perf_counter() - began
    for node in models:
        materialized = node["config"]["materialized"]
        if materialized == "ephemeral":  # inlined into the compiled SQL of the models using it
            continue
        began = time.perf_counter()
        kind = "view" if materialized == "view" else "table"
        con.execute(f'create schema if not exists "{node["database"]}"."{node["schema"]}"')
        if node["language"] == "python":
            # Not SQL (the predictive fits): its table is copied from the full build.
            con.execute(
                f"create or replace table {node['relation_name']} as "
                f'select * from built."{node["schema"]}"."{node["name"]}"'
            )
        else:
            con.execute(f"create or replace {kind} {node['relation_name']} as {node['compiled_code']}")
        timings[node["unique_id"]] = time.perf_counter() - began
    total = time.perf_counter() - started
    con.close()
    timings_path.write_text(json.dumps({"seconds": total, "nodes": timings}, indent=2))


def _step_publish(database: Path, published: Path, exports: Path) -> None:
    """What ``run`` does after its audits: the published file, its exports, both swaps."""
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with duckdb.connect(str(database), read_only=True) as con:
        (as_of,) = con.execute("select max(as_of_date) from marts.dim_customers").fetchall()[0]
    row = publish.LogRow(publish.new_build_id(started), as_of, started, started, 0, 0, 0, "", None)
    scratch = publish.write_published(database, published, row)
    staged = stage_export(scratch, exports)
    publish.swap_in(scratch, published)
    switch_current(exports, staged)


def _worker(args: argparse.Namespace) -> int:
    if args.step == "generate":
        generate(args.database, profile=args.profile, as_of_date=args.as_of_date, seed=args.seed)
    elif args.step == "next-day":
        generate_next_day(args.database, args.profile, args.as_of_date, seed=args.seed)
    elif args.step == "publish":
        _step_publish(args.database, args.published, args.exports)
    else:
        _step_baseline(args.database, args.manifest, args.timings, args.built)
    return 0


# --- The benchmark ------------------------------------------------------------------------


def compare_builds(incremental: Path, refreshed: Path) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """Every relation of COMPARED_SCHEMAS in two builds of the same data, and those whose
    rows differ (as multisets, without RUN_COLUMNS) with the number of rows only in the
    first and only in the second. Both files are opened read-only; the same relations
    and columns must exist in both (a ValueError names the difference)."""

    def relations(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = ? and table_schema in (select unnest(?)) "
            "order by table_schema, table_name, ordinal_position",
            [catalog, list(COMPARED_SCHEMAS)],
        ).fetchall():
            if column not in RUN_COLUMNS:
                found.setdefault(f"{schema}.{table}", []).append(column)
        return found

    with duckdb.connect(str(incremental), read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach '{refreshed}' as refreshed (read_only)")
        [(mine,)] = con.execute("select current_database()").fetchall()
        tables = relations(con, mine)
        if tables != (theirs := relations(con, "refreshed")):
            changed = sorted(
                set(tables).symmetric_difference(theirs) | {t for t in tables if tables[t] != theirs.get(t)}
            )
            raise ValueError(f"the two builds do not have the same relations and columns: {changed}")
        differing = {}
        for name, columns in tables.items():
            listed = ", ".join(f'"{column}"' for column in columns)
            one, other = f'"{mine}".{name}', f"refreshed.{name}"
            # Equal row counts and equal sums of row hashes: the same multiset but for a
            # hash collision; only a relation that fails this is compared row by row.
            fingerprint = f"select count(*), sum(cast(hash({listed}) as hugeint)) from {{}}"
            if con.execute(fingerprint.format(one)).fetchall() == con.execute(fingerprint.format(other)).fetchall():
                continue
            [(only_first,)] = con.execute(
                f"select count(*) from (select {listed} from {one} except all select {listed} from {other})"
            ).fetchall()
            [(only_second,)] = con.execute(
                f"select count(*) from (select {listed} from {other} except all select {listed} from {one})"
            ).fetchall()
            if only_first or only_second:
                differing[name] = (only_first, only_second)
    return sorted(tables), differing


@dataclass(frozen=True)
class Paths:
    """Where one profile's benchmark writes."""

    out: Path
    profile: str

    @property
    def database(self) -> Path:
        return self.out / f"{self.profile}.duckdb"

    @property
    def work(self) -> Path:
        return self.out / self.profile

    @property
    def raw_copy(self) -> Path:
        return self.work / "baseline" / f"{self.profile}.duckdb"

    def reset(self) -> None:
        """Remove what an earlier run left."""
        for path in (self.database, self.database.with_name(self.database.name + ".wal")):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.work, ignore_errors=True)
        self.raw_copy.parent.mkdir(parents=True)


def _worker_command(step: str, paths: Paths, *extra: str) -> list[str]:
    return [sys.executable, "-m", "audience.bench", "--profile", paths.profile, "--step", step, *extra]


def dbt_build_command(target_path: Path, log_path: Path, as_of: dt.date) -> list[str]:
    """``dbt build`` of the project as of a date through the ``dbt`` executable beside this
    Python, so that it runs in a process of its own (start-up and parse included in its
    time); its artifacts and logs in the given folders. Add ``--target`` for another
    engine than the profile's default."""
    dbt = Path(sys.executable).with_name("dbt")
    return [
        str(dbt), "build",
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(target_path),
        "--log-path", str(log_path),
        "--vars", json.dumps({"as_of_date": as_of.isoformat()}),
    ]  # fmt: skip


def _dbt(paths: Paths, as_of: dt.date, target: str) -> list[str]:
    return dbt_build_command(paths.work / target, paths.work / "logs", as_of)


def _raw_rows(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            table: con.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchall()[0][0] for table in RAW_TABLES
        }


def machine() -> dict[str, Any]:
    """What the figures were measured on: cores, Python and DuckDB (each report adds
    the versions of what it ran)."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__}


def _short(unique_id: str) -> str:
    return unique_id.split(".")[-1]


def run(profile: str, out: Path, as_of: dt.date, seed: int, floor: Path | None = None) -> dict[str, Any]:
    """Run every step and return the figures; with ``floor``, also that SQL floor script
    (``python FLOOR run DB AS_OF``, reading raw.* only) on the same raw data."""
    paths = Paths(out=out.resolve(), profile=profile)
    paths.reset()
    env = {**os.environ, DATABASE_ENV: str(paths.database)}
    common = ["--database", str(paths.database), "--as-of-date", as_of.isoformat(), "--seed", str(seed)]
    next_day = as_of + dt.timedelta(days=1)
    print(f"bench {profile} ({PROFILES[profile]:,} customers) as of {as_of}, in {paths.out}", flush=True)

    generated = run_measured("generate", _worker_command("generate", paths, *common), paths.work / "generate.log")
    raw_rows = _raw_rows(paths.database)
    shutil.copy(paths.database, paths.raw_copy)

    full = run_measured("full dbt build", _dbt(paths, as_of, "full"), paths.work / "dbt-full.log", env)
    manifest_path = paths.work / "full" / "manifest.json"
    run_results = json.loads((paths.work / "full" / "run_results.json").read_text())

    published = run_measured(
        "publish",
        _worker_command(
            "publish", paths, "--database", str(paths.database),
            "--published", str(paths.work / "published.duckdb"), "--exports", str(paths.work / "exports"),
        ),
        paths.work / "publish.log",
    )  # fmt: skip

    append = run_measured("append one day", _worker_command("next-day", paths, *common), paths.work / "next-day.log")
    appended = {table: rows - raw_rows[table] for table, rows in _raw_rows(paths.database).items()}
    daily = run_measured("daily dbt build", _dbt(paths, next_day, "daily"), paths.work / "dbt-daily.log", env)
    daily_results = json.loads((paths.work / "daily" / "run_results.json").read_text())

    # The same data rebuilt with --full-refresh, on a copy: every relation must equal the
    # daily (incremental) build's, row for row.
    refreshed_file = paths.work / "refreshed" / paths.database.name
    refreshed_file.parent.mkdir(parents=True)
    for suffix in ("", ".wal"):
        if (source := paths.database.with_name(paths.database.name + suffix)).exists():
            shutil.copy(source, refreshed_file.with_name(refreshed_file.name + suffix))
    refresh = run_measured(
        "full-refresh dbt build (the daily build's data)",
        [*_dbt(paths, next_day, "refreshed"), "--full-refresh"],
        paths.work / "dbt-refreshed.log",
        {**env, DATABASE_ENV: str(refreshed_file)},
    )
    started = time.perf_counter()
    compared, differing = compare_builds(paths.database, refreshed_file)
    print(
        f"  incremental vs full-refresh: {len(compared)} relations, {len(differing)} differ "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )

    timings_path = paths.work / "baseline.json"
    baseline = run_measured(
        "baseline (compiled SQL in one DuckDB session)",
        _worker_command(
            "baseline", paths, "--database", str(paths.raw_copy),
            "--manifest", str(manifest_path), "--timings", str(timings_path), "--built", str(paths.database),
        ),
        paths.work / "baseline.log",
    )  # fmt: skip
    baseline_timings = json.loads(timings_path.read_text())

    figures = _figures(
        profile, as_of, seed, raw_rows, appended, generated, full, published, append, daily, baseline,
        run_results, daily_results, json.loads(manifest_path.read_text()), baseline_timings,
    )  # fmt: skip
    figures["incremental_vs_full_refresh"] = {
        "refresh_build": asdict(refresh),
        "relations": len(compared),
        "differing": {name: {"only_incremental": a, "only_full_refresh": b} for name, (a, b) in differing.items()},
    }
    if floor is not None:
        # The raw-only copy: the baseline added marts beside raw.*, which the floor never reads.
        measured = run_measured(
            f"SQL floor ({floor.name})",
            [sys.executable, str(floor.resolve()), "run", str(paths.raw_copy), as_of.isoformat()],
            paths.work / "floor.log",
        )
        figures["floor"] = {**asdict(measured), "script": str(floor)}
        figures["ratio_full_build_to_floor"] = full.seconds / measured.seconds
    return figures


def _figures(
    profile: str,
    as_of: dt.date,
    seed: int,
    raw_rows: dict[str, int],
    appended: dict[str, int],
    generated: Measured,
    full: Measured,
    published: Measured,
    append: Measured,
    daily: Measured,
    baseline: Measured,
    run_results: dict[str, Any],
    daily_results: dict[str, Any],
    manifest: dict[str, Any],
    baseline_timings: dict[str, Any],
) -> dict[str, Any]:
    results = run_results["results"]
    node_seconds = {result["unique_id"]: result["execution_time"] for result in results}
    base_nodes: dict[str, float] = baseline_timings["nodes"]

    def slowest_models(build_results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        models = [r for r in build_results if r["unique_id"].startswith("model.")]
        return [
            {
                "model": _short(r["unique_id"]),
                "materialized": manifest["nodes"][r["unique_id"]]["config"]["materialized"],
                "dbt_seconds": r["execution_time"],
                "baseline_seconds": base_nodes.get(r["unique_id"]),
            }
            for r in sorted(models, key=lambda r: (-r["execution_time"], r["unique_id"]))[:SLOWEST]
        ]

    # Throughput: raw rows over the run time of the model that reads the raw table (base_*).
    readers: dict[str, str] = {}
    for uid, node in sorted(manifest["nodes"].items()):
        if node["resource_type"] != "model":
            continue
        for dep in node["depends_on"]["nodes"]:
            table = dep.split(".")[-1]
            if (
                dep.startswith("source.")
                and table in RAW_TABLES
                and (table not in readers or node["name"].startswith("base_"))
            ):
                readers[table] = uid
    throughput = []
    for table in sorted(raw_rows, key=lambda t: (-raw_rows[t], t))[:THROUGHPUT_TABLES]:
        model = readers.get(table)
        seconds = node_seconds.get(model, 0.0) if model else 0.0
        base_seconds = base_nodes.get(model, 0.0) if model else 0.0
        throughput.append({
            "table": table,
            "raw_rows": raw_rows[table],
            "model": _short(model) if model else None,
            "dbt_seconds": seconds,
            "dbt_rows_per_second": raw_rows[table] / seconds if seconds else None,
            "baseline_seconds": base_seconds,
            "baseline_rows_per_second": raw_rows[table] / base_seconds if base_seconds else None,
        })  # fmt: skip

    return {
        "profile": profile,
        "customers": PROFILES[profile],
        "as_of_date": as_of.isoformat(),
        "seed": seed,
        "machine": {**machine(), "dbt": run_results["metadata"]["dbt_version"]},
        "raw_rows": sum(raw_rows.values()),
        "raw_rows_per_table": raw_rows,
        "generate": asdict(generated),
        "full_build": {**asdict(full), "per_resource_type": _per_type(results)},
        "publish": asdict(published),
        "next_day": {
            "append": {**asdict(append), "rows": sum(appended.values()), "rows_per_table": appended},
            "build": {**asdict(daily), "per_resource_type": _per_type(daily_results["results"])},
        },
        "baseline": {
            **asdict(baseline),
            "sql_seconds": baseline_timings["seconds"],
            "models": sum(1 for uid in base_nodes if uid.startswith("model.")),
        },
        "ratio_full_build_to_baseline": full.seconds / baseline_timings["seconds"],
        "slowest_models": slowest_models(results),
        "slowest_models_daily": slowest_models(daily_results["results"]),
        "throughput": throughput,
    }


def _per_type(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Nodes and summed run time per resource type (model, test, seed, ...)."""
    per_type: dict[str, dict[str, float]] = {}
    for result in results:
        entry = per_type.setdefault(result["unique_id"].split(".")[0], {"nodes": 0, "seconds": 0.0})
        entry["nodes"] += 1
        entry["seconds"] += result["execution_time"]
    return per_type


def _per_type_text(per_type: dict[str, dict[str, float]]) -> str:
    return ", ".join(
        f"{kind} {entry['nodes']:.0f} ({entry['seconds']:.1f} s)" for kind, entry in sorted(per_type.items())
    )


def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f} MiB"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def markdown(figures: dict[str, Any]) -> str:
    """The figures as markdown tables."""
    f = figures
    full, day, base = f["full_build"], f["next_day"], f["baseline"]
    lines = [
        f"# Benchmark: profile {f['profile']}",
        "",
        f"{f['customers']:,} customers, {f['raw_rows']:,} raw rows, as of {f['as_of_date']}, seed {f['seed']}; "
        f"{f['machine']['cpus']} CPUs, Python {f['machine']['python']}, DuckDB {f['machine']['duckdb']}, "
        f"dbt {f['machine']['dbt']}.",
        "",
        "| step | wall time | peak RSS (process tree) |",
        "|---|---:|---:|",
        f"| data generation | {f['generate']['seconds']:.1f} s | {_mib(f['generate']['peak_rss_bytes'])} |",
        f"| full `dbt build` | {full['seconds']:.1f} s | {_mib(full['peak_rss_bytes'])} |",
        f"| publish (marts copied to a new file, exports, both swapped in) | {f['publish']['seconds']:.1f} s "
        f"| {_mib(f['publish']['peak_rss_bytes'])} |",
        f"| append one day ({day['append']['rows']:,} raw rows) | {day['append']['seconds']:.1f} s "
        f"| {_mib(day['append']['peak_rss_bytes'])} |",
        f"| daily `dbt build` (as of the next day) | {day['build']['seconds']:.1f} s "
        f"| {_mib(day['build']['peak_rss_bytes'])} |",
        f"| baseline: {base['models']} models' compiled SQL in one DuckDB session | {base['seconds']:.1f} s "
        f"(SQL {base['sql_seconds']:.1f} s) | {_mib(base['peak_rss_bytes'])} |",
        "",
        f"**Full build / baseline: {f['ratio_full_build_to_baseline']:.2f}×** "
        f"(full build wall time over the baseline's SQL time). Nodes in the full build, summed "
        f"run time per kind: {_per_type_text(full['per_resource_type'])}.",
    ]
    if "floor" in f:
        lines += [
            "",
            f"**Full build / SQL floor: {f['ratio_full_build_to_floor']:.2f}×** (full build wall time over "
            f"the wall time of `{Path(f['floor']['script']).name}` on the same raw data: "
            f"{f['floor']['seconds']:.1f} s, peak {_mib(f['floor']['peak_rss_bytes'])}).",
        ]
    lines += [
        "",
        f"**Publish / full build: {f['publish']['seconds'] / full['seconds']:.0%}** (what publishing adds "
        "to a run, start-up of its process included).",
        "",
        f"**Daily build / full build: {day['build']['seconds'] / full['seconds']:.0%}**. Nodes in the daily "
        f"build, summed run time per kind: {_per_type_text(day['build']['per_resource_type'])}.",
    ]
    same = f["incremental_vs_full_refresh"]
    lines += ["", f"Full-refresh build of the daily build's data: {same['refresh_build']['seconds']:.1f} s."]
    if same["differing"]:
        lines += [
            "",
            f"**Incremental ≠ full-refresh: {len(same['differing'])} of {same['relations']} relations differ** "
            "(rows only in the incremental / only in the full-refresh build):",
            "",
            *(
                f"- {name}: {d['only_incremental']:,} / {d['only_full_refresh']:,}"
                for name, d in same["differing"].items()
            ),
        ]
    else:
        lines += [
            "",
            f"**Incremental ≡ full-refresh: all {same['relations']} relations** of staging, intermediate and marts "
            "hold the same rows after the daily build as after a `--full-refresh` build of the same data.",
        ]
    if "previous" in f:
        before = f["previous"]
        lines += [
            "",
            f"Last run of this profile ({before['as_of_date']}, seed {before['seed']}): full build "
            f"{before['full_seconds']:.1f} s (now {full['seconds'] / before['full_seconds']:.2f}× that), "
            f"daily build {before['daily_seconds']:.1f} s "
            f"(now {day['build']['seconds'] / before['daily_seconds']:.2f}×).",
        ]
    for title, key in (("full build", "slowest_models"), ("daily build", "slowest_models_daily")):
        lines += [
            "",
            f"## {SLOWEST} slowest models ({title})",
            "",
            "| model | materialized | dbt | baseline (full) |",
            "|---|---|---:|---:|",
        ]
        for row in f[key]:
            baseline = "–" if row["baseline_seconds"] is None else f"{row['baseline_seconds']:.2f} s"
            lines.append(f"| {row['model']} | {row['materialized']} | {row['dbt_seconds']:.2f} s | {baseline} |")
    lines += [
        "",
        "## Rows per second, largest raw tables",
        "",
        "Raw rows over the run time of the model that reads the raw table.",
        "",
        "| raw table | rows | model | dbt rows/s | baseline rows/s |",
        "|---|---:|---|---:|---:|",
    ]
    for row in f["throughput"]:
        lines.append(
            f"| {row['table']} | {row['raw_rows']:,} | {row['model']} | {_rate(row['dbt_rows_per_second'])} "
            f"| {_rate(row['baseline_rows_per_second'])} |"
        )
    return "\n".join(lines) + "\n"


def _previous(path: Path) -> dict[str, Any] | None:
    """The headline figures of the last run of a profile (its JSON), to compare with."""
    try:
        last = json.loads(path.read_text())
        return {
            "as_of_date": last["as_of_date"],
            "seed": last["seed"],
            "full_seconds": last["full_build"]["seconds"],
            "daily_seconds": last["next_day"]["build"]["seconds"],
        }
    except (OSError, ValueError, KeyError):
        return None


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audience.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=PROFILES, default="demo", help="data size (default demo)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench", help="output folder (default bench/)")
    parser.add_argument("--as-of-date", type=_date, default=DEFAULT_AS_OF, help=f"as-of date (default {DEFAULT_AS_OF})")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    parser.add_argument(
        "--floor", type=Path, help="a SQL floor script (python FLOOR run DB AS_OF) to time on the same raw data"
    )
    # One step in its own process, so that its memory is measured alone (internal).
    parser.add_argument("--step", choices=["generate", "next-day", "publish", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--published", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--exports", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--manifest", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--timings", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--built", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        return _worker(args)
    if args.floor is not None and not args.floor.is_file():
        parser.error(f"--floor: no such file: {args.floor}")
    out = args.out.resolve()
    previous = _previous(out / f"{args.profile}.json")
    try:
        figures = run(args.profile, args.out, args.as_of_date, args.seed, args.floor)
    except StepFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if previous is not None:
        figures["previous"] = previous
    report = markdown(figures)
    (out / f"{args.profile}.json").write_text(json.dumps(figures, indent=2) + "\n")
    (out / f"{args.profile}.md").write_text(report)
    print()
    print(report)
    if figures["incremental_vs_full_refresh"]["differing"]:
        print("error: the incremental build and the full-refresh build differ (above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
