"""Slim CI (audience.slim_ci, make ci-slim): against the published site's build (its
working database and the manifest publishing kept), a change to one model builds that
model, its children and their tests into a CI database of their own, reads every other
model from production through the attached production file, and never writes production.

One extra dbt build of a few nodes, plus a listing and a build that stops at its first node.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from audience.project import PROJECT_DIR, node_results, published_state_path, run_dbt
from audience.slim_ci import Production, slim_build
from pytests.conftest import Site

#: The model the change touches: an intermediate model with one child mart
#: (fct_segment_performance), whose parents int_orders_valued and
#: int_email_events_identified have other children (fct_orders …) the change must leave out.
CHANGED = "int_customers_recent_activity"
MARKER = "is_slim_ci_marker"
#: What dbt reads of a project: its copy is the branch under review.
DBT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests", "analyses")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's dbt files with one column added to CHANGED."""
    folder = tmp_path_factory.mktemp("branch")
    for name in DBT_FILES:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        else:
            shutil.copy2(source, folder / name)
    [model] = (folder / "models").rglob(f"{CHANGED}.sql")
    last = "as bigint) as unsubscribes_90d\n"
    text = model.read_text()
    assert text.count(last) == 1
    model.write_text(text.replace(last, f"as bigint) as unsubscribes_90d,\n        true as {MARKER}\n"))
    return folder


@pytest.fixture(scope="module")
def production(published_site: Site) -> Production:
    """The published build's state as publishing kept it, and its working database."""
    return Production.read(published_state_path(published_site.published), published_site.working)


@pytest.fixture(scope="module")
def slim(production: Production, branch: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The slim build of the branch, what it selected, and production before and after."""
    ci_database = tmp_path_factory.mktemp("ci") / "audience_ci.duckdb"
    before = sha256(production.database), production.database.stat().st_mtime_ns
    result = slim_build(production, ci_database, project_dir=branch)
    after = sha256(production.database), production.database.stat().st_mtime_ns
    listed = run_dbt(
        ["ls", "--select", f"{CHANGED}+", "--output", "json", "--output-keys", "unique_id", "--quiet"],
        project_dir=branch,
    )
    assert listed.success, listed.exception
    return {
        "result": result,
        "built": {e.node.unique_id for e in node_results(result) if not e.node.unique_id.startswith("operation.")},
        "downstream": {json.loads(line)["unique_id"] for line in listed.result},
        "ci_database": ci_database,
        "production": (before, after),
    }


def test_publishing_keeps_the_manifest_of_the_published_build(production: Production) -> None:
    # the relations of the manifest are in the working database, named after its file
    assert production.manifest.parent.name == "audience_state"
    assert production.alias == production.database.stem == "working"


def test_the_build_passes_and_selects_the_changed_model_and_everything_downstream(slim: dict[str, Any]) -> None:
    assert slim["result"].success, slim["result"].exception or [
        f"{entry.node.unique_id}: {entry.message}" for entry in node_results(slim["result"])
    ]
    assert slim["built"] == slim["downstream"]
    names = {unique_id.split(".")[-1] for unique_id in slim["built"]}
    assert {CHANGED, "fct_segment_performance", "recent_activity_windows"} <= names  # model, child, unit test
    # parents and their other children are not modified: read from production, not built
    assert not {"int_orders_valued", "int_email_events_identified", "fct_orders", "dim_customers"} & names


def test_the_ci_database_holds_only_the_changed_relations_built_on_production_data(
    slim: dict[str, Any], production: Production
) -> None:
    with duckdb.connect(str(slim["ci_database"]), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = 'audience_ci' order by 1, 2"
        ).fetchall()
        columns = con.execute(f"select name from pragma_table_info('ci_intermediate.{CHANGED}')").fetchall()
        built = con.execute("select * from ci_marts.fct_segment_performance").fetchall()
    assert tables == [("ci_intermediate", CHANGED), ("ci_marts", "fct_segment_performance")]
    assert (MARKER,) in columns
    # the child mart, rebuilt from the changed model and production's parents, as of
    # production's date, equals production's rows of that date
    as_of = production.as_of_date()
    with duckdb.connect(str(production.database), read_only=True) as con:
        published = con.execute("select * from marts.fct_segment_performance where as_of_date = ?", [as_of]).fetchall()
    assert built and sorted(map(str, built)) == sorted(map(str, published))


def test_production_is_not_written(slim: dict[str, Any]) -> None:
    before, after = slim["production"]
    assert before == after


def test_without_production_attached_under_its_own_name_the_build_fails(
    production: Production, branch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trap: deferred relations are named "working"."intermediate"."…"; attached under
    another name, production is not found. (The changed model alone, without its tests.)"""
    monkeypatch.setenv("DBT_INDIRECT_SELECTION", "empty")
    elsewhere = dataclasses.replace(production, alias="not_production")
    result = slim_build(elsewhere, tmp_path / "audience_ci.duckdb", select=CHANGED, project_dir=branch)
    assert not result.success
    [error] = [str(entry.message) for entry in node_results(result) if str(entry.status) == "error"]
    assert "does not exist" in error and '"working"."intermediate"' in error, error
