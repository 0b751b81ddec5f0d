"""Where the project lives, which databases it reads and writes, and how dbt is called."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATABASE_ENV = "AUDIENCE_DUCKDB_PATH"
PUBLISHED_ENV = "AUDIENCE_PUBLISHED_PATH"
CI_DATABASE_ENV = "AUDIENCE_CI_DUCKDB_PATH"
#: The project directory, for the profile's module_paths (the dbt Python models import
#: the package audience).
PROJECT_DIR_ENV = "AUDIENCE_PROJECT_DIR"


def _configured(env: str, default: str) -> Path:
    configured = os.environ.get(env)
    return Path(configured).resolve() if configured else PROJECT_DIR / default


def database_path() -> Path:
    """The working DuckDB file dbt builds and tests in (SPEC section 8):
    ``$AUDIENCE_DUCKDB_PATH``, else audience_working.duckdb here. Readers never open it."""
    return _configured(DATABASE_ENV, "audience_working.duckdb")


def database_path_is_explicit() -> bool:
    """True when ``$AUDIENCE_DUCKDB_PATH`` names the working database (not the default)."""
    return bool(os.environ.get(DATABASE_ENV))


def published_path() -> Path:
    """The published DuckDB file BI tools open (SPEC section 10):
    ``$AUDIENCE_PUBLISHED_PATH``, else audience.duckdb here."""
    return _configured(PUBLISHED_ENV, "audience.duckdb")


def published_state_path(published: Path | None = None) -> Path:
    """The folder where publishing keeps the dbt manifest of the published build, beside
    the published file (``published``, default ``published_path()``; audience.duckdb:
    audience_state/); slim CI compares with it."""
    published = published or published_path()
    return published.with_name(f"{published.stem}_state")


def ci_database_path() -> Path:
    """The scratch DuckDB file slim CI builds in (audience.slim_ci):
    ``$AUDIENCE_CI_DUCKDB_PATH``, else audience_ci.duckdb here."""
    return _configured(CI_DATABASE_ENV, "audience_ci.duckdb")


def target_path() -> Path:
    """Where dbt writes its artifacts (manifest.json) for commands that do not pass
    --target-path: ``$DBT_TARGET_PATH``, else target/ here."""
    return PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")


@cache
def project_vars() -> dict[str, Any]:
    """The vars of dbt_project.yml with their defaults."""
    import yaml

    with (PROJECT_DIR / "dbt_project.yml").open() as stream:
        return dict(yaml.safe_load(stream).get("vars") or {})


def dbt_vars(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The vars a dbt command sees: those of dbt_project.yml, with ``overrides`` (--vars)."""
    return {**project_vars(), **(overrides or {})}


def exclusive_families() -> list[str]:
    """The exclusive segment families of the registry (var segment_families)."""
    return [name for name, family in project_vars()["segment_families"].items() if family["exclusive"]]


def project_commit() -> str | None:
    """The git commit of the project when it is a git checkout, else None."""
    try:
        done = subprocess.run(
            ["git", "-C", str(PROJECT_DIR), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Environment variables set to ``values`` for the block, then restored (or unset)."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_dbt(
    args: list[str], callbacks: list[Callable[[Any], None]] | None = None, project_dir: Path = PROJECT_DIR
) -> dbtRunnerResult:
    """Invoke dbt in this process on this project (or a copy of its dbt files in
    ``project_dir``), against ``database_path()``; each of ``callbacks`` receives every
    event dbt fires.

    The path is resolved here and handed to the profile through the environment for the
    command only, so a relative ``$AUDIENCE_DUCKDB_PATH`` means the same file for dbt and
    for the tooling, and a path left unset stays unset (``database_path_is_explicit``).
    """
    from dbt.cli.main import dbtRunner

    # The package's folder, also for a copy of the project.
    try:
        with environment({DATABASE_ENV: str(database_path()), PROJECT_DIR_ENV: str(PROJECT_DIR)}):
            return dbtRunner(callbacks=callbacks).invoke(
                [*args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
            )
    finally:
        _release_duckdb()


def node_results(result: dbtRunnerResult) -> list[Any]:
    """The per-node results of a dbt command that runs nodes (build, test, source
    freshness); empty when it stopped before running any."""
    return list(getattr(result.result, "results", None) or [])


def _release_duckdb() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open in this process after a command.

    Otherwise the same process cannot open the file again (read-only, or from another
    build), and DuckDB answers that the configuration differs.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if environment is not None:
        environment.close()
