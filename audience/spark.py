"""Apache Spark for the project (issue 16): whether a local Spark can run here, raw
tables loaded into Spark's catalog from a DuckDB file (the generator's) through Parquet,
and the predictive fit loaded as tables (dbt runs no Python models on Spark).

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
    import pandas as pd
    from dbt.cli.main import dbtRunnerResult
    from pyspark.sql import SparkSession

SPARK_DIR_ENV = "AUDIENCE_SPARK_DIR"


def unavailable() -> str | None:
    """Why a local Spark (target ``spark``) cannot run here, or None when it can."""
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "dbt-spark and pyspark are not installed (bash scripts/install_spark.sh)"
    java = shutil.which(
        "java", path=os.path.join(os.environ["JAVA_HOME"], "bin") if "JAVA_HOME" in os.environ else None
    )
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
    tables = {
        table: [[name, spark_type(data_type)] for name, data_type in columns] for table, columns in RAW_TABLES.items()
    }
    with tempfile.TemporaryDirectory(prefix="audience-raw-") as folder:
        with duckdb.connect(str(duckdb_path), read_only=True) as source:
            for table in RAW_TABLES:
                source.execute(f"copy {RAW_SCHEMA}.{table} to '{folder}/{table}.parquet' (format parquet)")
                ((count,),) = source.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchall()
                counts[table] = int(count)
        operation = json.dumps({"folder": folder, "tables": tables, "schema": RAW_SCHEMA})
        result = run_dbt(
            ["run-operation", "load_raw_from_parquet", "--args", operation, *(dbt_args or ["--target", "spark"])]
        )
    return counts, result


def running_session() -> SparkSession:
    """The local Spark session a dbt command on target ``spark`` started in this process
    (its metastore and warehouse are the profile's)."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        from pyspark import SparkContext

        if SparkContext._active_spark_context is None:
            raise RuntimeError("no Spark session in this process: run dbt on target spark first")
        session = SparkSession.builder.getOrCreate()
    return session


#: The tables audience.predictive.LOADED_SCHEMA holds on Spark, partitioned by as_of_date.
LOADED_TABLES = {
    "model_params": "model string, parameter string, value double, log_likelihood double, n_customers int, "
    "is_converged boolean, failure_reason string",
    "expectations": "repeat_order_days int, repeat_span_days int, customer_age_days int, "
    "expected_orders_90d double, expected_orders_365d double",
}


def load_predictive(session: SparkSession, as_of_date: str, settings: dict[str, int]) -> pd.DataFrame:
    """Spark's route for the predictive fit (as audience.predictive.load_into_postgres on
    PostgreSQL): fit both models on the order-day summary a dbt build left in
    intermediate.int_customers_order_days_counted, compute the expectations, and replace
    the as-of date's partition of predictive_loaded.model_params and .expectations, which
    the SQL models int_predictive_params_fitted and int_predictive_expectations_computed
    read on the next run. Returns the parameter rows."""
    import pandas as pd

    from audience.predictive import LOADED_SCHEMA, expectations, fit_models

    def frame(sql: str) -> pd.DataFrame:
        rows = session.sql(sql).collect()
        return pd.DataFrame([row.asDict() for row in rows], columns=session.sql(sql).columns)

    source = "intermediate.int_customers_order_days_counted"
    combo = "repeat_order_days, repeat_span_days, customer_age_days"
    bg_nbd_combos = frame(f"select {combo}, count(*) as customers from {source} group by {combo}")
    gamma_gamma_combos = frame(
        "select repeat_order_days, cast(mean_repeat_order_day_value_usd as double) as mean_repeat_order_day_value_usd,"
        f" count(*) as customers from {source} where repeat_order_days >= 1"
        " group by repeat_order_days, mean_repeat_order_day_value_usd"
    )
    parameters = fit_models(bg_nbd_combos, gamma_gamma_combos, settings)
    expected = expectations(bg_nbd_combos, parameters)
    session.sql(f"create schema if not exists {LOADED_SCHEMA}")
    for table, rows in (("model_params", parameters), ("expectations", expected)):
        relation = f"{LOADED_SCHEMA}.{table}"
        ddl = LOADED_TABLES[table]
        session.sql(
            f"create table if not exists {relation} ({ddl}, as_of_date date) using parquet partitioned by (as_of_date)"
        )
        values = [
            [None if pd.isna(value) else value.item() if hasattr(value, "item") else value for value in row]
            for _, row in rows.iterrows()
        ]
        session.createDataFrame(values, schema=ddl).createOrReplaceTempView("audience_loaded_rows")
        columns = ", ".join(part.split()[0] for part in ddl.split(", "))
        session.sql(
            f"insert overwrite table {relation} partition (as_of_date = date'{as_of_date}') "
            f"select {columns} from audience_loaded_rows"
        )
    return parameters
