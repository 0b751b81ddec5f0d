# Two commands do everything on a fresh machine with Python 3.11 and pip:
#   make run    build and test, audit, publish, export; summary (demo data on the default path)
#   make test   lint + pytest (builds the project on fixtures)
# Set-up (.venv from requirements.txt) runs first and is skipped when already current;
# make pytest (so make test) also adds requirements-spark.txt, for the Spark suite.
# make help lists every target.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Spark extras (dbt-spark, pyspark; about 500 MB) on top of $(STAMP): only the test
# suite needs them. Java 17, which Spark also needs, is scripts/install_spark.sh's job.
SPARK_STAMP := $(VENV)/.installed-spark
ARGS ?=
# make bench PROFILE=M: benchmark size (demo, M or L; CI runs demo).
PROFILE ?= demo
# make bench FLOOR=../shared/perf/sql_floor.py: also time that SQL floor script on the bench's data.
FLOOR ?=
# make ci-slim STATE=prod/audience_state PROD=prod/audience_working.duckdb: the production
# build's manifest folder and database (defaults: what `make run` published and built).
STATE ?=
PROD ?=

.PHONY: help run test lint pytest generate bench bench-engines ci-slim ci-empty clean

help:
	@echo "make run      build and test, audit, publish, export, summary (ARGS='--verbose' for dbt's output,"
	@echo "              ARGS='--target spark' on a local Apache Spark)"
	@echo "make test     lint + pytest"
	@echo "make lint     sqlfluff on the SQL; ruff (lint, format check) and mypy on audience/"
	@echo "make pytest   pytest only (ARGS='pytests/test_cli.py -k help' to narrow); adds the Spark extras to .venv"
	@echo "make generate replace schema raw with demo data (ARGS='--profile M')"
	@echo "make bench    benchmark (PROFILE=demo, M or L)"
	@echo "make bench-engines  full dbt build on DuckDB, PostgreSQL and a local Spark, profiles S and demo"
	@echo "              (ARGS='--profiles S'); adds the Spark extras to .venv"
	@echo "make ci-slim  build what changed since production, and its children, into audience_ci.duckdb,"
	@echo "              reading the rest from production (STATE=manifest folder, PROD=production database)"
	@echo "make ci-empty models, seeds and unit tests with dbt build --empty: no data needed"
	@echo "make clean    remove target/, logs/ and .venv"
	@echo "Options of the command line: $(BIN)/python -m audience --help"

# A .venv left half-created (an interrupted set-up: no python, or a python without pip)
# is rebuilt from scratch: its stamp counts as out of date, and the set-up removes it.
VENV_WORKS := $(shell $(BIN)/python -c "import pip" >/dev/null 2>&1 && echo yes)
ifneq ($(VENV_WORKS),yes)
.PHONY: $(STAMP)
endif

$(STAMP): requirements.txt
	@if [ -e $(VENV) ] && [ "$(VENV_WORKS)" != yes ]; then \
		echo "$(VENV) is incomplete (no python, or a python without pip): rebuilding it"; \
		rm -rf $(VENV); \
	fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

$(SPARK_STAMP): $(STAMP) requirements-spark.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-spark.txt
	$(BIN)/python -m pip check
	@touch $(SPARK_STAMP)

# make run ARGS='--target spark' also installs the Spark extras (Java 17: scripts/install_spark.sh).
run: $(STAMP) $(if $(findstring spark,$(ARGS)),$(SPARK_STAMP))
	$(BIN)/python -m audience run $(ARGS)

generate: $(STAMP)
	$(BIN)/python -m audience generate $(ARGS)

lint: $(STAMP)
	@mkdir -p target
	AUDIENCE_DUCKDB_PATH=$(CURDIR)/target/lint.duckdb $(BIN)/sqlfluff lint models tests analyses
	$(BIN)/ruff check audience
	$(BIN)/ruff format --check audience
	$(BIN)/mypy

pytest: $(SPARK_STAMP)
	$(BIN)/python -m pytest $(ARGS)

test: lint pytest

bench: $(STAMP)
	$(BIN)/python -m audience.bench --profile $(PROFILE) $(if $(FLOOR),--floor $(FLOOR)) $(ARGS)

# The Spark extras, as for pytest: Spark is one of the engines measured.
bench-engines: $(SPARK_STAMP)
	$(BIN)/python -m audience.bench_engines $(ARGS)

ci-slim: $(STAMP)
	$(BIN)/python -m audience ci-slim $(if $(STATE),--state $(STATE)) $(if $(PROD),--prod $(PROD)) $(ARGS)

ci-empty: $(STAMP)
	$(BIN)/python -m audience ci-empty $(ARGS)

clean:
	rm -rf target logs $(VENV)
