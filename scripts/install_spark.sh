#!/usr/bin/env bash
# Install dbt-spark and pyspark (requirements-spark.txt, about 500 MB) into a virtualenv
# that already holds requirements.txt: the one given as $1, default .venv. Spark's method
# `session` also needs Java 17 (a JRE): installed from Debian's packages when absent and
# this is root; otherwise the script says so and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
    echo "$venv has no python: create it first (make pytest builds .venv from requirements.txt)." >&2
    exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-spark.txt
"$venv/bin/python" -m pip check
if ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "Java is missing and installing it needs root: apt-get install openjdk-17-jre-headless" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
java -version 2>&1 | head -1
