"""Where the project lives, which database it builds, and how dbt is called."""

from __future__ import annotations

import os
from pathlib import Path

from dbt.cli.main import dbtRunner, dbtRunnerResult

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATABASE_ENV = "AUDIENCE_DUCKDB_PATH"


def database_path() -> Path:
    """The DuckDB file dbt builds: ``$AUDIENCE_DUCKDB_PATH``, else audience.duckdb here."""
    configured = os.environ.get(DATABASE_ENV)
    if configured:
        return Path(configured).resolve()
    return PROJECT_DIR / "audience.duckdb"


def run_dbt(args: list[str]) -> dbtRunnerResult:
    """Invoke dbt in this process on this project, against ``database_path()``.

    The path is resolved here and handed to the profile through the environment, so a
    relative ``$AUDIENCE_DUCKDB_PATH`` means the same file for dbt and for the tooling.
    """
    os.environ[DATABASE_ENV] = str(database_path())
    try:
        return dbtRunner().invoke(
            [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
        )
    finally:
        _release_duckdb()


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
