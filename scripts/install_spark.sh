#!/usr/bin/env bash
# Everything the Spark suite needs (target spark, method session): dbt-spark and pyspark
# (requirements-spark.txt, about 500 MB) in the project's .venv, and Java 17.
#   bash scripts/install_spark.sh          .venv through make (.venv/.installed-spark:
#                                          creates .venv first when absent; nothing to do
#                                          when both stamps are current)
#   bash scripts/install_spark.sh VENV     into another virtualenv that already holds
#                                          requirements.txt
# Java 17 (a JRE) is installed from Debian's packages when `java` is absent and this is
# root; otherwise the script says so and fails. Safe to run again: a second run checks
# and returns in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
if [ "$venv" = .venv ]; then
    make --no-print-directory .venv/.installed-spark
else
    if [ ! -x "$venv/bin/python" ]; then
        echo "$venv has no python: create it first, with requirements.txt." >&2
        exit 1
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-spark.txt
    "$venv/bin/python" -m pip check
fi
if ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "Java is missing and installing it needs root: apt-get install openjdk-17-jre-headless" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
java -version 2>&1 | head -1
