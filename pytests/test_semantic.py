"""The semantic layer and the docs: MetricFlow's own `mf query` CLI answers what SQL over
the marts answers, and `dbt docs generate` describes every model and every built column,
with the project's overview page, a group with an owner and a layer tag on every model,
and exposures that name their owner's address and where they live.

One build of generated profile-S data serves the module. MetricFlow reads
`<project dir>/target/semantic_manifest.json` whatever the target path, so the work
directory is made a project directory of its own (a link to dbt_project.yml beside the
build's target/ and logs/): mf never reads or writes the repository's target/.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import decimal
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from audience.export import CURRENT, MANIFEST, REPORT
from audience.generate import generate
from audience.project import DATABASE_ENV, PROJECT_DIR
from conftest import Db, dbt_in

AS_OF = "2026-06-30"
EARLIER = "2026-06-10"
VARS = json.dumps({"as_of_date": AS_OF})
# The tag of each layer, by the model's folder under models/ (dbt_project.yml).
LAYER_TAGS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts", "audiences": "audience"}
MF = Path(sys.executable).with_name("mf")
# One (campaign, customer) pair per row; a null campaign is a value of its own, as in
# the measures' coalesce(campaign_id, '').
EMAIL_PAIRS = """
    select distinct {grain} event_type, campaign_id, customer_id
    from marts.fct_email_events
"""
# One row per (campaign, customer) sent to, dated by its last send, opened or not (at
# any time on or before the as-of date): what open_rate and the performance mart count.
SENT_PAIRS = """
    select campaign_id, customer_id, max(event_date) filter (where event_type = 'send') as send_date,
        bool_or(event_type = 'open') as opened, bool_or(event_type = 'click') as clicked
    from marts.fct_email_events where campaign_id is not null
    group by campaign_id, customer_id
    having count(*) filter (where event_type = 'send') > 0
"""

Artifact = dict[str, Any]


@dataclass
class Built:
    workdir: Path
    database: Path

    def db(self) -> Db:
        return Db(self.database)

    def mf_query(
        self, metrics: list[str], group_by: list[str] | None = None, where: str | None = None
    ) -> list[dict[str, str | None]]:
        """Run `mf query` as a subprocess on this build; its CSV rows, empty cells as None."""
        out = self.workdir / f"mf-query-{len(list(self.workdir.glob('mf-query-*.csv')))}.csv"
        command = [str(MF), "query", "--metrics", ",".join(metrics), "--csv", str(out)]
        if group_by:
            command += ["--group-by", ",".join(group_by)]
        if where:
            command += ["--where", where]
        env = {
            **os.environ,
            DATABASE_ENV: str(self.database),
            "DBT_PROJECT_DIR": str(self.workdir),
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "DBT_TARGET_PATH": str(self.workdir / "target"),
            "DBT_LOG_PATH": str(self.workdir / "logs"),
        }
        result = subprocess.run(command, cwd=self.workdir, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0 and out.exists(), (
            f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
        )
        with out.open(newline="") as handle:
            return [{key: (value or None) for key, value in row.items()} for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Profile S built as of AS_OF (models and seeds; other suites run the data tests),
    parsed into the work directory's target/, which mf reads."""
    assert MF.exists(), f"{MF} is missing: install requirements.txt (dbt-metricflow)"
    workdir = tmp_path_factory.mktemp("semantic")
    database = workdir / "audience.duckdb"
    generate(database, profile="S", as_of_date=dt.date.fromisoformat(AS_OF), seed=11)
    skip_tests = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    # An earlier date first, so the history has a cohort with a window of outcomes.
    result = dbt_in(workdir, database, ["build", "--vars", json.dumps({"as_of_date": EARLIER}), *skip_tests])
    assert result.success, f"dbt build as of {EARLIER} failed; logs in {workdir / 'logs'}"
    result = dbt_in(workdir, database, ["build", "--vars", VARS, *skip_tests])
    assert result.success, f"dbt build failed; logs in {workdir / 'logs'}"
    assert dbt_in(workdir, database, ["parse", "--vars", VARS]).success
    assert (workdir / "target" / "semantic_manifest.json").exists()
    (workdir / "dbt_project.yml").symlink_to(PROJECT_DIR / "dbt_project.yml")
    return Built(workdir, database)


def number(value: str | None) -> decimal.Decimal | None:
    return None if value is None else decimal.Decimal(value)


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def assert_rate(actual: str | None, expected: float | None, name: str) -> None:
    if expected is None:
        assert actual is None, name
    else:
        assert actual is not None and float(actual) == pytest.approx(expected, rel=1e-9), (name, actual, expected)


def test_time_spine_has_one_row_per_day_of_its_range(built: Built) -> None:
    project_vars = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    first = dt.date.fromisoformat(project_vars["time_spine_start_date"])
    last = dt.date.fromisoformat(project_vars["time_spine_end_date"])
    [(rows, days, earliest, latest)] = built.db().rows(
        "select count(*), count(distinct date_day), min(date_day), max(date_day) from marts.metricflow_time_spine"
    )
    assert (rows, days, earliest, latest) == ((last - first).days + 1, (last - first).days + 1, first, last)
    [(orders_from, orders_to)] = built.db().rows("select min(order_date), max(order_date) from marts.fct_orders")
    assert first <= orders_from and orders_to <= last


def test_mf_totals_equal_sql_over_the_marts(built: Built) -> None:
    metrics = [
        "customers", "buyers", "orders", "net_revenue_usd", "sends", "unique_opens",
        "unique_clicks", "unsubscribes", "open_rate", "click_rate", "unsubscribe_rate",
    ]
    [row] = built.mf_query(metrics)
    db = built.db()
    [(customers, buyers, customer_revenue)] = db.rows(
        "select count(distinct customer_id), count(*) filter (where counted_orders > 0), sum(net_revenue_usd) "
        "from marts.dim_customers"
    )
    [(orders, revenue, uncounted)] = db.rows(
        "select count(*) filter (where is_counted), sum(net_revenue_usd) filter (where is_counted), "
        "count(*) filter (where not is_counted) from marts.fct_orders"
    )
    pairs = dict(db.rows(f"select event_type, count(*) from ({EMAIL_PAIRS.format(grain='')}) group by event_type"))
    sends, opens, clicks, unsubscribes = (pairs.get(kind, 0) for kind in ("send", "open", "click", "unsubscribe"))
    # The data must exercise every rule, or equal numbers would prove little.
    assert 0 < buyers < customers and uncounted > 0 and sends > opens > clicks > 0 and unsubscribes > 0

    assert int(row["customers"]) == customers
    assert int(row["buyers"]) == buyers
    assert int(row["orders"]) == orders
    assert number(row["net_revenue_usd"]) == revenue == customer_revenue
    assert (int(row["sends"]), int(row["unique_opens"]), int(row["unique_clicks"]), int(row["unsubscribes"])) == (
        sends, opens, clicks, unsubscribes,
    )
    [(sent, opened, clicked)] = db.rows(f"select count(*), count(*) filter (where opened), count(*) filter (where clicked) from ({SENT_PAIRS})")
    assert sent == sends and 0 < clicked < opened <= opens
    assert_rate(row["open_rate"], ratio(opened, sends), "open_rate")
    assert_rate(row["click_rate"], ratio(clicked, sends), "click_rate")
    assert_rate(row["unsubscribe_rate"], ratio(unsubscribes, sends), "unsubscribe_rate")


def test_mf_by_month_equals_sql_over_the_marts(built: Built) -> None:
    rows = built.mf_query(["orders", "net_revenue_usd", "open_rate"], ["metric_time__month"])
    actual = {
        dt.date.fromisoformat(row["metric_time__month"][:10]): (
            number(row["orders"]), number(row["net_revenue_usd"]), row["open_rate"],
        )
        for row in rows
    }
    db = built.db()
    expected: dict[dt.date, list[Any]] = {}
    for month, orders, revenue in db.rows(
        "select cast(date_trunc('month', order_date) as date), count(*) filter (where is_counted), "
        "coalesce(sum(net_revenue_usd) filter (where is_counted), 0) from marts.fct_orders group by 1"
    ):
        expected[month] = [orders, revenue, None]
    for month, sends, opens in db.rows(
        f"select cast(date_trunc('month', send_date) as date), count(*), count(*) filter (where opened) "
        f"from ({SENT_PAIRS}) group by 1"
    ):
        expected.setdefault(month, [None, None, None])[2] = ratio(opens, sends)
    assert len(expected) > 12
    assert sorted(actual) == sorted(expected)
    for month, (orders, revenue, open_rate) in expected.items():
        assert actual[month][:2] == (orders, revenue), month
        assert_rate(actual[month][2], open_rate, f"open_rate {month}")


def test_mf_predicted_value_by_churn_risk_equals_sql_over_dim_customers(built: Built) -> None:
    rows = built.mf_query(["predicted_clv", "expected_orders"], ["customer__churn_risk"])
    actual = {
        row["customer__churn_risk"]: (number(row["predicted_clv"]), number(row["expected_orders"])) for row in rows
    }
    expected = {
        risk: (clv, orders)
        for risk, clv, orders in built.db().rows(
            "select churn_risk, sum(clv_365d_usd), sum(expected_orders_365d) from marts.dim_customers group by churn_risk"
        )
    }
    assert {"one_time", "high", "low"} <= set(expected)
    assert actual == expected


def test_mf_segment_members_equal_sql_over_the_mart(built: Built) -> None:
    rows = built.mf_query(
        ["segment_members"], ["segment_membership__segment_family", "segment_membership__segment"]
    )
    actual = {
        (row["segment_membership__segment_family"], row["segment_membership__segment"]): int(row["segment_members"])
        for row in rows
    }
    expected = dict(
        ((family, segment), members)
        for family, segment, members in built.db().rows(
            "select segment_family, segment, count(distinct customer_id) from marts.fct_segment_memberships "
            "group by segment_family, segment"
        )
    )
    assert len(expected) > 20
    assert actual == expected


def test_open_and_click_rates_are_the_performance_marts_numbers(built: Built) -> None:
    start = (dt.date.fromisoformat(AS_OF) - dt.timedelta(days=89)).isoformat()
    rows = built.mf_query(
        ["open_rate", "click_rate"],
        ["customer__lifecycle_stage"],
        f"{{{{ TimeDimension('metric_time', 'day') }}}} >= '{start}'",
    )
    actual = {row["customer__lifecycle_stage"]: (row["open_rate"], row["click_rate"]) for row in rows}
    expected = {
        segment: (opened, clicked)
        for segment, opened, clicked in built.db().rows(
            "select segment, unique_open_rate_90d, unique_click_rate_90d from marts.fct_segment_performance "
            "where segment_family = 'lifecycle' and as_of_date = ? and sends_90d > 0",
            [dt.date.fromisoformat(AS_OF)],
        )
    }
    assert len(expected) >= 3 and set(actual) == set(expected)
    for segment, (opened, clicked) in expected.items():
        assert decimal.Decimal(actual[segment][0]).quantize(decimal.Decimal("0.0001"), decimal.ROUND_HALF_UP) == opened, segment
        assert decimal.Decimal(actual[segment][1]).quantize(decimal.Decimal("0.0001"), decimal.ROUND_HALF_UP) == clicked, segment


def test_outcome_metrics_and_holdout_lift_are_the_marts_numbers(built: Built) -> None:
    keys = ["segment_outcome__segment_family", "segment_outcome__segment", "segment_outcome__window_days"]
    where = f"{{{{ TimeDimension('segment_outcome__cohort_date', 'day') }}}} = '{EARLIER}'"
    rates = built.mf_query(["conversion_rate", "converters"], [*keys, "segment_outcome__outcome_group"], where)
    expected = {
        (family, segment, str(window), group): (rate, converters)
        for family, segment, window, group, rate, converters in built.db().rows(
            "select segment_family, segment, window_days, outcome_group, conversion_rate, converters "
            "from marts.fct_segment_outcomes where cohort_date = ?",
            [dt.date.fromisoformat(EARLIER)],
        )
    }
    actual = {
        tuple(row[key] for key in [*keys, "segment_outcome__outcome_group"]): (
            decimal.Decimal(row["conversion_rate"]).quantize(decimal.Decimal("0.0001"), decimal.ROUND_HALF_UP),
            int(row["converters"]),
        )
        for row in rates
    }
    assert actual == expected and sum(converters for _, converters in expected.values()) > 0
    lifts = built.mf_query(["holdout_lift"], keys, where)
    expected_lift = {
        (family, segment, str(window)): lift
        for family, segment, window, lift in built.db().rows(
            "select segment_family, segment, window_days, lift from marts.fct_segment_lift "
            "where comparison = 'holdout' and cohort_date = ? and lift is not null",
            [dt.date.fromisoformat(EARLIER)],
        )
    }
    got = {tuple(row[key] for key in keys): row["holdout_lift"] for row in lifts if row["holdout_lift"] is not None}
    assert set(got) == set(expected_lift) and any(value != 0 for value in expected_lift.values())
    for key, lift in expected_lift.items():
        assert float(got[key]) == pytest.approx(lift, abs=1e-12), key


def missing_docs(manifest: Artifact, catalog: Artifact) -> list[str]:
    """Models without a description, and columns of built models (from the catalog) that
    the manifest does not describe, as `model` and `model.column` (ephemeral models, such
    as the audience models, build no relation: their description is checked)."""
    missing = []
    for unique_id, node in sorted(manifest["nodes"].items()):
        if node["resource_type"] != "model":
            continue
        if not (node.get("description") or "").strip():
            missing.append(node["name"])
        if node["config"]["materialized"] == "ephemeral":
            continue  # inlined into the models that use it: no relation, no catalog entry
        built_node = catalog["nodes"].get(unique_id)
        if built_node is None:
            missing.append(f"{node['name']} (not in the catalog: not built)")
            continue
        described = {
            name.lower() for name, column in node["columns"].items() if (column.get("description") or "").strip()
        }
        missing += [f"{node['name']}.{name}" for name in built_node["columns"] if name.lower() not in described]
    return missing


@pytest.fixture(scope="module")
def docs(built: Built) -> tuple[Artifact, Artifact]:
    """`dbt docs generate` on the build; its manifest and catalog."""
    result = dbt_in(built.workdir, built.database, ["docs", "generate", "--vars", VARS])
    assert result.success, f"dbt docs generate failed; logs in {built.workdir / 'logs'}"
    target = built.workdir / "target"
    return (
        json.loads((target / "manifest.json").read_text()),
        json.loads((target / "catalog.json").read_text()),
    )


def test_docs_describe_every_model_and_every_built_column(docs: tuple[Artifact, Artifact]) -> None:
    manifest, catalog = docs
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert any(node["name"] == "metricflow_time_spine" for node in models)
    assert missing_docs(manifest, catalog) == []


def test_missing_docs_names_what_lacks_a_description(docs: tuple[Artifact, Artifact]) -> None:
    manifest, catalog = docs
    doctored = copy.deepcopy(manifest)
    nodes = {node["name"]: node for node in doctored["nodes"].values() if node["resource_type"] == "model"}
    nodes["dim_customers"]["description"] = " "
    nodes["fct_orders"]["columns"]["order_id"]["description"] = ""
    del nodes["fct_email_events"]["columns"]["event_type"]
    new = set(missing_docs(doctored, catalog)) - set(missing_docs(manifest, catalog))
    assert new == {"dim_customers", "fct_email_events.event_type", "fct_orders.order_id"}


def test_docs_have_the_overview_groups_owners_and_layer_tags(docs: tuple[Artifact, Artifact]) -> None:
    manifest, _ = docs
    overview = manifest["docs"].get("doc.audience.__overview__")
    assert overview is not None, "models/overview.md: no {% docs __overview__ %} block"
    for heading in ("How to read the DAG", "Where to start", "How to run"):
        assert heading in overview["block_contents"], heading
    owners = {group["name"]: group["owner"] for group in manifest["groups"].values()}
    assert {"staging", "intermediate", "customers", "segments", "marketing", "data_quality"} <= set(owners)
    assert all(owner.get("name") and "@" in (owner.get("email") or "") for owner in owners.values()), owners
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert len(models) > 50
    for node in models:
        layer = Path(node["original_file_path"]).parts[1]
        assert node["group"] in owners, f"{node['name']}: group {node['group']!r}"
        assert LAYER_TAGS[layer] in node["tags"], f"{node['name']}: tags {node['tags']}"
        assert node["access"] == "protected", node["name"]
    groups = {node["name"]: node["group"] for node in models}
    assert (groups["stg_crm__contacts"], groups["dim_customers"], groups["fct_segment_memberships"]) == (
        "staging", "customers", "segments",
    )
    assert (groups["fct_segment_exports"], groups["dq_rejected_rows"], groups["lapsed_high_value_buyers"]) == (
        "marketing", "data_quality", "segments",
    )
    exposures = {exposure["name"]: exposure for exposure in manifest["exposures"].values()}
    assert exposures["segment_dashboard"]["url"] == f"exports/{CURRENT}/{REPORT}"
    assert exposures["segment_exports"]["url"] == f"exports/{CURRENT}/{MANIFEST}"
    assert all("@" in (exposure["owner"].get("email") or "") for exposure in exposures.values())
