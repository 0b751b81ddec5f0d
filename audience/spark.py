"""Apache Spark for the project (issue 16): whether a local Spark can run here, and raw
tables loaded into Spark's catalog from a DuckDB file (the generator's) through Parquet.

The local target ``spark`` (profiles.yml) runs Spark inside the dbt process (dbt-spark's
method ``session``): requirements-spark.txt, installed by scripts/install_spark.sh, and
Java 17. Its metastore, warehouse and derby.log live under ``$AUDIENCE_SPARK_DIR``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from audience.project import run_dbt
from audience.raw_schema import RAW_SCHEMA, RAW_TABLES

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult

SPARK_DIR_ENV = "AUDIENCE_SPARK_DIR"


def unavailable() -> str | None:
    """Why a local Spark (target ``spark``) cannot run here, or None when it can."""
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "dbt-spark and pyspark are not installed (bash scripts/install_spark.sh)"
    java = shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin") if "JAVA_HOME" in os.environ else None)
    if java is None:
        return "Java is not installed (Spark needs Java 17: apt-get install openjdk-17-jre-headless)"
    done = subprocess.run([java, "-version"], capture_output=True, text=True)
    if done.returncode != 0:
        return f"java -version failed: {(done.stderr or done.stdout).strip()[-300:]}"
    return None


def spark_type(contract_type: str) -> str:
    """Spark's spelling of a raw contract type (VARCHAR is string there)."""
    return "string" if contract_type == "VARCHAR" else contract_type.lower()


def load_raw(duckdb_path: Path, dbt_args: list[str] | None = None) -> tuple[dict[str, int], dbtRunnerResult]:
    """Replace the ten raw tables of schema raw in Spark's catalog (target ``spark``, or
    the target ``dbt_args`` name) with those of a DuckDB file: DuckDB writes each table
    to Parquet, and the macro load_raw_from_parquet reads the files into Spark. Returns
    the rows per table and dbt's result."""
    counts: dict[str, int] = {}
    tables = {table: [[name, spark_type(data_type)] for name, data_type in columns] for table, columns in RAW_TABLES.items()}
    with tempfile.TemporaryDirectory(prefix="audience-raw-") as folder:
        with duckdb.connect(str(duckdb_path), read_only=True) as source:
            for table in RAW_TABLES:
                source.execute(f"copy {RAW_SCHEMA}.{table} to '{folder}/{table}.parquet' (format parquet)")
                ((count,),) = source.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchall()
                counts[table] = int(count)
        operation = json.dumps({"folder": folder, "tables": tables, "schema": RAW_SCHEMA})
        result = run_dbt(["run-operation", "load_raw_from_parquet", "--args", operation, *(dbt_args or ["--target", "spark"])])
    return counts, result
