"""Audiences a marketer can write (issue 13): the family registry drives memberships, tests
and the catalogue; industry and job_function families; rule helpers and feature columns
in custom-audience predicates; model-based audiences of models/audiences/. Planted
customers as of 2026-06-30, every expected audience counted by hand below.

    customer  country  tags         orders (days ago)      categories            industry / title
    a@        USA      Trade Show   10, 100                beauty                Manufacturing / Director of Sales
    b@        Germany  trade-show   20                     beauty, electronics   MFG / Marketing Manager
    c@        U.S.     -            5, 50, 150             beauty                - (shop customer only)
    d@        Canada   Trade Show   -                      -                     no account / VP Engineering
    e@        -        -            200, 300, 400, 500     -                     - ; subscribed
    f@        -        -            100, 120, 150          -                     - ; subscribed
    g@        -        -            -                      -                     no account / Sales Director, EMEA

Behaviour: vip (>= 3 counted orders within 180 days) = c, f; winback (lifecycle at_risk
or lapsed, subscribed) = e (last order 200 days ago: lapsed), f (100: at_risk).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from audience.project import PROJECT_DIR
from conftest import Db, Rows, dbt_in, load_raw

AS_OF = dt.date(2026, 6, 30)

#: The registry of dbt_project.yml plus one family over an existing dim_customers column:
#: what a user adds to get a new family, nothing else.
REGISTRY = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["segment_families"]
PROBE = "rfm_cell_probe"
REGISTRY_WITH_PROBE = {**REGISTRY, PROBE: {"exclusive": True, "exhaustive": True, "population": "buyers", "column": "rfm_cell"}}

#: The issue's example rules, each with the customers it must select (counted by hand).
RULES: dict[str, tuple[str, set[str]]] = {
    "trade_show_north_america": ("has_tag('trade_show') and region = 'north_america'", {"a", "d"}),
    "bought_twice_in_6_months": ("orders_180d >= 2", {"a", "c", "f"}),
    "beauty_never_electronics": ("bought_category('beauty') and not bought_category('electronics')", {"a", "c"}),
    "manufacturing": ("industry = 'manufacturing'", {"a", "b"}),
    "manufacturing_by_segment": ("in_segment('industry', 'manufacturing')", {"a", "b"}),
    "directors": ("seniority = 'director'", {"a", "g"}),
    "vip_not_winback": ("in_segment('behaviour', 'vip') and not in_segment('behaviour', 'winback')", {"c"}),
    "outside_us": ("country_code is distinct from 'US'", {"b", "d", "e", "f", "g"}),
    "first_order_in_2026": ("extract(year from first_order_date) = 2026", {"a", "b", "c", "f"}),
    "a_or_b_by_pattern": ("email similar to '(a|b)@x.com'", {"a", "b"}),
}
VARS = {
    "as_of_date": AS_OF.isoformat(),
    "segment_families": REGISTRY_WITH_PROBE,
    "custom_audiences": [
        {"name": name, "description": f"Rule {name}.", "predicate": predicate} for name, (predicate, _) in RULES.items()
    ],
}


def at(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(AS_OF - dt.timedelta(days=days_ago), dt.time(12))


def order(order_id: str, person: str, days_ago: int) -> dict[str, Any]:
    return {
        "order_id": order_id, "email": f"{person}@x.com", "status": "completed", "currency": "USD",
        "total_amount": 10, "discount_amount": 0, "ordered_at": at(days_ago), "updated_at": at(days_ago),
        "_loaded_at": at(days_ago) + dt.timedelta(hours=1),
    }  # fmt: skip


def contact(contact_id: str, person: str, account_id: str | None, title: str, country: str) -> dict[str, Any]:
    return {
        "contact_id": contact_id, "account_id": account_id, "email": f"{person}@x.com", "job_title": title,
        "country": country, "is_deleted": False, "created_at": at(600), "updated_at": at(600), "_loaded_at": at(600),
    }  # fmt: skip


def item(item_id: str, order_id: str, category: str) -> dict[str, Any]:
    return {"order_item_id": item_id, "order_id": order_id, "product_category": category, "quantity": 1,
            "unit_price": 5, "_loaded_at": at(0)}  # fmt: skip


def tag(contact_id: str, name: str) -> dict[str, Any]:
    return {"contact_id": contact_id, "tag": name, "tagged_at": at(30), "_loaded_at": at(30)}


def subscribe(event_id: str, person: str) -> dict[str, Any]:
    return {"event_id": event_id, "email": f"{person}@x.com", "event_type": "subscribe", "occurred_at": at(550),
            "_loaded_at": at(550)}  # fmt: skip


RAW: Rows = {
    "crm_accounts": [
        {"account_id": "ACC1", "industry": "Manufacturing", "employee_count": 250, "updated_at": at(600), "_loaded_at": at(600)},
        {"account_id": "ACC2", "industry": " MFG ", "employee_count": 40, "updated_at": at(600), "_loaded_at": at(600)},
    ],
    "crm_contacts": [
        contact("C1", "a", "ACC1", "Director of Sales", "USA"),
        contact("C2", "b", "ACC2", "Marketing Manager", "Germany"),
        contact("C4", "d", None, "VP Engineering", "Canada"),
        contact("C7", "g", None, "Sales Director, EMEA", None),
    ],
    "crm_contact_tags": [tag("C1", "Trade Show"), tag("C2", "trade-show"), tag("C4", "Trade Show")],
    "shop_customers": [
        {"customer_id": "S3", "email": "c@x.com", "country": "U.S.", "created_at": at(600), "updated_at": at(600),
         "_loaded_at": at(600)},
    ],
    "shop_orders": [
        order("A10", "a", 10), order("A100", "a", 100),
        order("B20", "b", 20),
        order("C5", "c", 5), order("C50", "c", 50), order("C150", "c", 150),
        order("E200", "e", 200), order("E300", "e", 300), order("E400", "e", 400), order("E500", "e", 500),
        order("F100", "f", 100), order("F120", "f", 120), order("F150", "f", 150),
    ],
    "shop_order_items": [
        item("I1", "A10", "Beauty"), item("I2", "B20", "beauty"), item("I3", "B20", "Electronics"),
        item("I4", "C50", "BEAUTY "),
    ],
    "email_events": [subscribe("E1", "e"), subscribe("E2", "f")],
}
PEOPLE = "abcdefg"


def cid(person: str) -> str:
    return hashlib.md5(f"{person}@x.com".encode()).hexdigest()


def person(customer_id: str) -> str:
    return next(p for p in PEOPLE if cid(p) == customer_id)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Db, Path]:
    workdir = tmp_path_factory.mktemp("rules")
    database = workdir / "audience.duckdb"
    load_raw(database, RAW)
    result = dbt_in(workdir, database, ["build", "--vars", json.dumps(VARS)])
    assert result.success, f"dbt build failed: {result.exception or 'see logs in ' + str(workdir)}"
    return Db(database), workdir


@pytest.fixture(scope="module")
def db(built: tuple[Db, Path]) -> Db:
    return built[0]


def members(db: Db, family: str) -> dict[str, set[str]]:
    got: dict[str, set[str]] = {}
    for segment, customer_id in db.rows(
        "select segment, customer_id from marts.fct_segment_memberships where segment_family = ?", [family]
    ):
        got.setdefault(segment, set()).add(person(customer_id))
    return got


@pytest.mark.parametrize("name", list(RULES))
def test_each_example_rule_selects_the_hand_counted_customers(db: Db, name: str) -> None:
    assert members(db, "custom").get(name, set()) == RULES[name][1]


def test_behaviour_segments_behind_the_vip_rule(db: Db) -> None:
    behaviour = members(db, "behaviour")
    assert behaviour["vip"] == {"c", "f"} and behaviour["winback"] == {"e", "f"}


def test_industry_and_job_function_families_are_exhaustive_with_unknown(db: Db) -> None:
    assert members(db, "industry") == {"manufacturing": {"a", "b"}, "unknown": {"c", "d", "e", "f", "g"}}
    assert members(db, "job_function") == {
        "sales": {"a", "g"}, "marketing": {"b"}, "engineering": {"d"}, "unknown": {"c", "e", "f"},
    }  # fmt: skip
    catalogue = dict(db.rows(
        "select segment_family || '.' || segment, description from marts.dim_segments "
        "where segment_family in ('industry', 'job_function')"
    ))  # fmt: skip
    assert catalogue["industry.manufacturing"] == "Customers whose industry is manufacturing."
    assert catalogue["job_function.unknown"] == "Customers whose job function we do not know."


def test_a_family_added_to_the_registry_alone_is_built_catalogued_and_tested(built: tuple[Db, Path]) -> None:
    db, workdir = built
    cells = dict(db.rows("select customer_id, rfm_cell from marts.dim_customers where rfm_cell is not null"))
    assert set(map(person, cells)) == {"a", "b", "c", "e", "f"}, "buyers"
    probe = db.rows("select customer_id, segment from marts.fct_segment_memberships where segment_family = ?", [PROBE])
    assert dict(probe) == cells
    [(population, exclusive, listed)] = db.rows(
        "select distinct population, is_exclusive, count(*) over () from marts.dim_segments where segment_family = ?",
        [PROBE],
    )
    assert (population, exclusive, listed) == ("buyers", True, len(set(cells.values())))
    compiled = {
        path.name.split(".")[0][:40]: path.read_text()
        for path in (workdir / "target" / "compiled").rglob("segments_ex*.sql")
    }
    assert compiled and all(f"'{PROBE}'" in sql for name, sql in compiled.items() if "history" not in name), compiled.keys()


def registry_tests(db_path: Path, workdir: Path, variables: dict[str, Any]) -> dict[str, int]:
    """Failures of the exclusivity and exhaustiveness tests on fct_segment_memberships."""
    selection = (
        "fct_segment_memberships,test_name:segments_exclusive "
        "fct_segment_memberships,test_name:segments_exhaustive "
        "fct_segment_memberships,test_name:in_family_registry"
    )
    args = ["test", "--select", selection, "--vars", json.dumps(variables)]
    result = dbt_in(workdir, db_path, args)
    return {r.node.name.split("_fct_")[0]: r.failures for r in result.result.results if r.node.resource_type == "test"}


def test_the_registry_tests_fail_when_the_added_family_breaks_its_rules(built: tuple[Db, Path], tmp_path: Path) -> None:
    db, _ = built
    copy = tmp_path / "audience.duckdb"
    shutil.copy(db.path, copy)
    passing = {"segments_exclusive": 0, "segments_exhaustive": 0, "in_family_registry": 0}
    assert registry_tests(copy, tmp_path, VARS) == passing
    with duckdb.connect(str(copy)) as con:
        # a second segment for one buyer, a probe segment for a non-buyer, a family nobody declared
        for family, person_ in ((PROBE, "a"), (PROBE, "d"), ("undeclared", "a")):
            con.execute(
                "insert into intermediate.int_segment_memberships_grouped by name "
                f"select as_of_date, customer_id, '{family}' as segment_family, '999' as segment, "
                "'treatment' as holdout_group, is_global_control, is_emailable, false as is_sendable "
                f"from marts.dim_customers where customer_id = '{cid(person_)}'"
            )
    assert registry_tests(copy, tmp_path, VARS) == {"segments_exclusive": 1, "segments_exhaustive": 2, "in_family_registry": 1}
    # without the probe in the registry, its rows are an undeclared family too
    assert registry_tests(copy, tmp_path, {**VARS, "segment_families": REGISTRY})["in_family_registry"] == 2


def test_the_model_based_audience_is_a_custom_segment_with_its_yaml(db: Db) -> None:
    assert members(db, "custom")["lapsed_high_value_buyers"] == {"e"}, "4 orders, the last 200 days ago"
    [row] = db.rows(
        "select description, definition, segment_owner, members from marts.dim_segments "
        "where segment_family = 'custom' and segment = 'lapsed_high_value_buyers'"
    )
    assert row[0].startswith("Buyers with at least 3 counted orders")
    assert row[1] == "model lapsed_high_value_buyers (models/audiences/lapsed_high_value_buyers.sql)"
    assert row[2:] == ("CRM retention team", 1)


def test_the_memberships_model_depends_on_every_model_it_reads(built: tuple[Db, Path]) -> None:
    _, workdir = built
    manifest = json.loads((workdir / "target" / "manifest.json").read_text())
    parents = set(manifest["nodes"]["model.audience.int_segment_memberships_grouped"]["depends_on"]["nodes"])
    assert {
        "model.audience.lapsed_high_value_buyers",  # model-based audience
        "model.audience.int_customers_behaviours",  # registry: behaviour
        "model.audience.int_customers_tagged",  # registry: crm_tag, has_tag
        "model.audience.fct_customer_categories",  # bought_category
        "model.audience.dim_customer_features",  # feature columns
    } <= parents


def compile_error(db: Db, workdir: Path, variables: dict[str, Any]) -> str:
    result = dbt_in(workdir, db.path, ["compile", "--select", "int_segment_memberships_grouped", "--vars",
                                       json.dumps({"as_of_date": AS_OF.isoformat(), **variables})])  # fmt: skip
    assert not result.success
    return str(result.exception) + " ".join(str(r.message) for r in (result.result.results if result.result else []))


def one(predicate: str) -> dict[str, Any]:
    return {"custom_audiences": [{"name": "bad_rule", "description": "A mistake.", "predicate": predicate}]}


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (one("has_tag(region)"), "custom audience 'bad_rule': helper has_tag takes quoted segment names only"),
        (one("bought_category('beauty' || '')"), "helper bought_category takes quoted segment names only"),
        (one("has_tag('Trade Show')"), "custom audience 'bad_rule': has_tag takes segment names"),
        (one("in_segment('custom', 'high_value_europe')"), "'custom' is not one"),
        # the helpers' own subqueries are the project's; the user's are still refused
        (one("has_tag('vip') and customer_id in (select customer_id from dim_customers)"),
         "custom audience 'bad_rule': unknown column(s) select, from"),
        (one("has_tag('vip') or exists(select 1)"), "custom audience 'bad_rule': function(s) or keyword(s) not allowed: exists"),
        ({"custom_audiences": [{"name": "lapsed_high_value_buyers", "description": "Clash.", "predicate": "true"}]},
         "a custom audience of var custom_audiences has the same name"),
        ({"audience_models": []}, "audience model 'lapsed_high_value_buyers' (models/audiences/lapsed_high_value_buyers.sql) is not in var audience_models"),
        ({"segment_families": {**REGISTRY, "broken": {"exclusive": True, "exhaustive": True, "population": "customers"}}},
         "segment family 'broken' (var segment_families): needs exactly one of column"),
        ({"segment_families": {**REGISTRY, "broken": {"exclusive": True, "exhaustive": True, "population": "customers", "column": "no_such_column"}}},
         "column 'no_such_column' is not a column of dim_customers"),
    ],
)
def test_mistakes_fail_the_compilation_naming_the_audience_or_family(
    db: Db, tmp_path: Path, variables: dict[str, Any], message: str
) -> None:
    assert message in compile_error(db, tmp_path, variables)
