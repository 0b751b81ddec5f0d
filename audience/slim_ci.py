"""Slim CI on DuckDB: build and test what a change modified, and everything downstream of
it, against the production build; and a build with no data at all.

    python -m audience ci-slim
    python -m audience ci-slim --state prod/audience_state --prod prod/audience_working.duckdb
    python -m audience ci-empty

``ci-slim`` compares the project with the dbt manifest of a production build (``--state``,
default: the one publishing keeps beside the published file, ``audience_state/``) and runs
``dbt build --select state:modified+ --defer --favor-state`` on the target ``ci_slim`` of
profiles.yml. The modified models, their children and their tests build in a scratch file
of their own (``--ci-database``, default ``$AUDIENCE_CI_DUCKDB_PATH`` or audience_ci.duckdb,
replaced on every run; schemas ci_staging … ci_marts there); every other model they read
is read from the production database (``--prod``, default the working database), which is
only ever opened read-only.

The trap this avoids: dbt names a deferred model ``"<database>"."<schema>"."<name>"`` with
the database of the production build, on DuckDB the production file's name without
``.duckdb``. From another file that name exists only if the production file is attached
under it, so the target ``ci_slim`` attaches ``$AUDIENCE_PROD_DUCKDB_PATH`` read-only as
``$AUDIENCE_PROD_DATABASE``, and this command sets both: the path from ``--prod``, the
name from the manifest. dbt never defers sources: the vars ``crm_database``,
``email_database`` and ``shop_database`` point the sources at the same attached database.
The build runs as of the production build's date (the latest ``as_of_date`` of its
``dim_customers``) unless ``--vars`` sets ``as_of_date``.

A change of a var in dbt_project.yml is not a modification to dbt (1.12): select what it
affects yourself, ``--select 'state:modified+ dim_customers+'``.

``ci-empty`` builds every model and seed and runs the unit tests (``dbt build --empty``,
data tests left out) on empty raw tables in a scratch file: SQL, contracts and the unit
tests' rules, with no data and no production state.

Exit codes: 0 passed; 1 the dbt build failed; 2 bad input (no manifest, no production
database, a CI database that is not a scratch file); 4 a database is held open by
another process (a build writing production blocks the read-only attach).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audience.project import (
    CI_DATABASE_ENV,
    DATABASE_ENV,
    PROJECT_DIR,
    ci_database_path,
    database_path,
    dbt_vars,
    environment,
    node_results,
    published_path,
    published_state_path,
    run_dbt,
)
from audience.publish import DBT_MANIFEST, holder_of_lock
from audience.raw_schema import SOURCES

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult

#: The profiles.yml target of slim CI, and what it reads from the environment.
TARGET = "ci_slim"
PROD_DATABASE_ENV = "AUDIENCE_PROD_DUCKDB_PATH"
PROD_ALIAS_ENV = "AUDIENCE_PROD_DATABASE"
#: dbt's default selection for slim CI: what changed, and everything downstream.
MODIFIED = "state:modified+"


class SlimCiError(RuntimeError):
    """Slim CI cannot run; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Production:
    """The production build slim CI defers to: its manifest, its database file, and the
    database name its relations carry in the manifest (the alias it is attached under)."""

    manifest: Path
    database: Path
    alias: str
    #: The schema and name of marts.dim_customers there, to read the build's as-of date.
    customers: tuple[str, str] | None

    @classmethod
    def read(cls, state: Path, database: Path) -> Production:
        """The production build of ``state``/manifest.json, whose relations are in
        ``database``."""
        manifest = state / DBT_MANIFEST
        if not manifest.is_file():
            raise SlimCiError(
                f"no {DBT_MANIFEST} in {state}: give the state of a production build (--state), or run "
                "`make run`, which keeps the published build's manifest beside the published file"
            )
        if not database.is_file():
            raise SlimCiError(f"no production database {database}: give the file the manifest was built in (--prod)")
        nodes = json.loads(manifest.read_text())["nodes"].values()
        built = [
            node
            for node in nodes
            if node["resource_type"] in ("model", "seed", "snapshot")
            and node["config"].get("materialized") != "ephemeral"
            and node["config"].get("enabled", True)
        ]
        names = sorted({str(node["database"]) for node in built})
        if len(names) != 1:
            raise SlimCiError(f"the manifest's relations must be in one database, found {names or 'none'}")
        customers = [(str(node["schema"]), str(node["alias"])) for node in built if node["name"] == "dim_customers"]
        return cls(manifest, database, names[0], customers[0] if customers else None)

    def as_of_date(self) -> str | None:
        """The latest as-of date of the production build's dim_customers, if it has one."""
        import duckdb

        if self.customers is None:
            return None
        schema, name = self.customers
        try:
            with duckdb.connect(str(self.database), read_only=True) as con:
                rows = con.execute(f'select max(as_of_date) from "{schema}"."{name}"').fetchall()
        except duckdb.IOException as error:
            raise _busy(error, self.database) from None
        except duckdb.CatalogException:
            return None
        return rows[0][0].isoformat() if rows and rows[0][0] else None

    def source_vars(self) -> dict[str, str]:
        """The vars that read every source from the production database (dbt defers refs,
        never sources)."""
        return {f"{source}_database": self.alias for source in SOURCES}


def _busy(error: BaseException | str, database: Path) -> SlimCiError:
    return SlimCiError(
        f"{database} is held open by {holder_of_lock(error) or 'another process'}: slim CI attaches production "
        "read-only, which DuckDB refuses while a build writes it (and a build while slim CI reads it)",
        4,
    )


def _fresh(ci_database: Path, production: Path | None = None) -> None:
    """Delete the scratch CI database, after checking it is not a file others rely on."""
    kept = {database_path().resolve(), published_path().resolve()} | ({production.resolve()} if production else set())
    if ci_database.resolve() in kept:
        raise SlimCiError(f"the CI database is replaced on every run: give a scratch file, not {ci_database}")
    for path in (ci_database, ci_database.with_name(ci_database.name + ".wal")):
        path.unlink(missing_ok=True)


def slim_build(
    production: Production,
    ci_database: Path,
    extra_vars: dict[str, Any] | None = None,
    select: str = MODIFIED,
    project_dir: Path = PROJECT_DIR,
) -> dbtRunnerResult:
    """``dbt build --select state:modified+ --defer --favor-state`` into a fresh
    ``ci_database``, reading what it does not build from ``production``."""
    if ci_database.stem == production.alias:
        raise SlimCiError(
            f"the CI database {ci_database} would be named {production.alias!r}, the name production is attached "
            "under: give it another file name"
        )
    _fresh(ci_database, production.database)
    build_vars = {**production.source_vars(), **(extra_vars or {})}
    if "as_of_date" not in build_vars:
        as_of = production.as_of_date()
        if as_of:
            build_vars["as_of_date"] = as_of
    env = {
        CI_DATABASE_ENV: str(ci_database.resolve()),
        PROD_DATABASE_ENV: str(production.database.resolve()),
        PROD_ALIAS_ENV: production.alias,
    }
    with environment(env):
        return run_dbt(
            [
                *("build", "--target", TARGET, "--select", select),
                *("--defer", "--favor-state", "--state", str(production.manifest.parent)),
                *("--vars", json.dumps(build_vars, default=str)),
            ],
            project_dir=project_dir,
        )


def empty_build(ci_database: Path, project_dir: Path = PROJECT_DIR) -> dbtRunnerResult:
    """``dbt build --empty`` of every model, seed and unit test on empty raw tables in a
    fresh ``ci_database`` (data tests left out: on no data they prove nothing)."""
    import duckdb

    from audience.raw_schema import create_raw_tables, raw_locations

    _fresh(ci_database)
    # the raw tables in this file, in the schemas the project's vars name
    local = {f"{source}_database": None for source in SOURCES}
    with duckdb.connect(str(ci_database)) as con:
        create_raw_tables(con, raw_locations(dbt_vars(local)))
    with environment({DATABASE_ENV: str(ci_database.resolve())}):
        return run_dbt(
            ["build", "--empty", "--exclude-resource-type", "test", "--vars", json.dumps(local)],
            project_dir=project_dir,
        )


def _outcome(result: dbtRunnerResult, what: str) -> int:
    """Print how a build went; its exit code."""
    problems = [str(result.exception)] if result.exception else []
    problems += [str(entry.message) for entry in node_results(result) if str(entry.status) in ("error", "fail")]
    holders = [holder for holder in map(holder_of_lock, problems) if holder]
    if holders:
        print(f"error: {what}: a database is held open by {holders[0]} (a production build?)", file=sys.stderr)
        return 4
    if not result.success:
        print(f"error: {what} failed (dbt's output above; logs/dbt.log)", file=sys.stderr)
        return 1
    ran = [entry for entry in node_results(result) if not entry.node.unique_id.startswith("operation.")]
    print(f"{what} passed: {len(ran)} nodes" + ("" if ran else " (nothing was modified)"))
    return 0


def cmd_ci_slim(args: argparse.Namespace) -> int:
    ci_database = (args.ci_database or ci_database_path()).resolve()
    try:
        production = Production.read(
            (args.state or published_state_path()).resolve(), (args.prod or database_path()).resolve()
        )
        print(
            f"slim CI: {args.select} against {production.manifest}, building into {ci_database}, deferring to "
            f"{production.database} (attached as {production.alias})"
        )
        result = slim_build(production, ci_database, args.vars, args.select)
    except SlimCiError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.code
    return _outcome(result, "slim CI")


def cmd_ci_empty(args: argparse.Namespace) -> int:
    ci_database = (args.ci_database or ci_database_path()).resolve()
    print(f"building every model, seed and unit test with --empty into {ci_database} ...")
    try:
        result = empty_build(ci_database)
    except SlimCiError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.code
    return _outcome(result, "the empty build")


def register(subparsers: Any, vars_type: Any) -> None:
    """Add ``ci-slim`` and ``ci-empty`` to the command line's subparsers (cli.main);
    ``vars_type`` parses --vars as for run."""
    slim = subparsers.add_parser(
        "ci-slim",
        help="build and test what changed since a production build, and its children, deferring the rest to "
        "production (DuckDB)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    slim.add_argument(
        "--state", type=Path, help="folder with the production build's manifest.json (default: audience_state/)"
    )
    slim.add_argument(
        "--prod", type=Path, help="the production database the manifest was built in (default: the working database)"
    )
    slim.add_argument(
        "--ci-database", type=Path, help="scratch file to build in, replaced (default: audience_ci.duckdb)"
    )
    slim.add_argument("--select", default=MODIFIED, help=f"dbt selection (default: {MODIFIED})")
    slim.add_argument(
        "--vars", type=vars_type, default={}, help="dbt vars, as for run (default as_of_date: production's)"
    )
    slim.set_defaults(handler=cmd_ci_slim)

    empty = subparsers.add_parser(
        "ci-empty",
        help="build every model, seed and unit test with dbt build --empty on empty raw tables (no data needed)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    empty.add_argument(
        "--ci-database", type=Path, help="scratch file to build in, replaced (default: audience_ci.duckdb)"
    )
    empty.set_defaults(handler=cmd_ci_empty)
