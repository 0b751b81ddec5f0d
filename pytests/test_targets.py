"""Targets that do not collide (macros/generate_schema_name.sql): the default targets
build into the exact schema names of SPEC section 8; dev and ci into their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audience.project import DATABASE_ENV, run_dbt


def schemas(target: str, workdir: Path) -> dict[str, str]:
    """The schema of every model and seed of the project on ``target`` that builds a
    relation (ephemeral models, the audience models, are inlined), by name."""
    listed = run_dbt(
        [
            *("ls", "--target", target, "--resource-type", "model", "--resource-type", "seed"),
            *("--exclude", "config.materialized:ephemeral"),
            *("--output", "json", "--output-keys", "name schema", "--quiet"),
            *("--target-path", str(workdir / target)),
        ]
    )
    assert listed.success, listed.exception
    return {row["name"]: row["schema"] for row in map(json.loads, listed.result)}


@pytest.fixture(scope="module")
def by_target(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    workdir = tmp_path_factory.mktemp("targets")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(DATABASE_ENV, str(workdir / "never_created.duckdb"))
        return {target: schemas(target, workdir) for target in ("duckdb", "postgres", "dev", "ci")}


def test_the_default_target_keeps_the_exact_schema_names(by_target: dict[str, dict[str, str]]) -> None:
    default = by_target["duckdb"]
    assert set(default.values()) == {"staging", "intermediate", "marts", "seeds"}
    assert default["dim_customers"] == "marts" and default["stg_shop__orders"] == "staging"
    assert default["int_customers_unified"] == "intermediate" and default["countries"] == "seeds"
    # on a server warehouse the marts are built beside the readers' schema marts
    assert set(by_target["postgres"].values()) == {"staging", "intermediate", "marts_working", "seeds"}


@pytest.mark.parametrize("target", ["dev", "ci"])
def test_dev_and_ci_build_into_their_own_schemas(by_target: dict[str, dict[str, str]], target: str) -> None:
    own = by_target[target]
    assert own.keys() == by_target["duckdb"].keys()
    for name, schema in by_target["duckdb"].items():
        assert own[name] == f"{target}_{schema}", name
    others = {schema for other, names in by_target.items() if other != target for schema in names.values()}
    assert not set(own.values()) & others, "no schema is shared with another target"
