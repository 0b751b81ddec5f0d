# Two commands do everything on a fresh machine with Python 3.11 and pip:
#   make run    demo data (when raw is absent); build and test, audit, publish, export; summary
#   make test   lint + pytest (builds the project on fixtures)
# Set-up (.venv from requirements.txt) runs first and is skipped when already current.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
# make bench PROFILE=M: benchmark size (demo, M or L; CI runs demo).
PROFILE ?= demo
# make bench FLOOR=../shared/perf/sql_floor.py: also time that SQL floor script on the bench's data.
FLOOR ?=

.PHONY: run test lint pytest generate bench clean

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m audience run $(ARGS)

generate: $(STAMP)
	$(BIN)/python -m audience generate $(ARGS)

lint: $(STAMP)
	AUDIENCE_DUCKDB_PATH=$${TMPDIR:-/tmp}/audience-lint.duckdb $(BIN)/sqlfluff lint models tests analyses

pytest: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

test: lint pytest

bench: $(STAMP)
	$(BIN)/python -m audience.bench --profile $(PROFILE) $(if $(FLOOR),--floor $(FLOOR)) $(ARGS)

clean:
	rm -rf target logs $(VENV)
