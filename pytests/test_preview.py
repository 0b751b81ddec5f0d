"""python -m audience preview: answers from the published build, refuses what a custom
audience's predicate may not do, and never shows an email."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import duckdb
import pytest

from audience import preview as preview_module
from audience.cli import main
from audience.export import EXPORT_DIR_ENV
from audience.generate import generate
from audience.preview import HELPERS, PREDICATE_FUNCTIONS, PREDICATE_WORDS, preview, register
from audience.project import DATABASE_ENV, PROJECT_DIR, PUBLISHED_ENV
from conftest import REFUSED_PREDICATES

TODAY = dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated S data as of today, run once as of that date (a run that crosses midnight
    UTC keeps it): built, audited, published."""
    folder = tmp_path_factory.mktemp("preview")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(DATABASE_ENV, str(folder / "working.duckdb"))
        monkeypatch.setenv(PUBLISHED_ENV, str(folder / "audience.duckdb"))
        monkeypatch.setenv(EXPORT_DIR_ENV, str(folder / "exports"))
        generate(folder / "working.duckdb", profile="S", as_of_date=TODAY)
        assert main(["run", "--as-of-date", TODAY.isoformat(), "--no-history-seed"]) == 0
    return folder / "audience.duckdb"


def rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the preview subcommand as cli.main will register it."""
    parser = argparse.ArgumentParser(prog="audience")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["preview", *argv])
    code = args.handler(args)
    out, err = capsys.readouterr()
    return code, out, err


JOINED = (
    "from marts.dim_customers c left join marts.dim_customer_features f on c.customer_id = f.customer_id "
)


@pytest.mark.parametrize(
    ("predicate", "where"),
    [
        ("value_tier = 'high' and region = 'europe'", "c.value_tier = 'high' and c.region = 'europe'"),
        ("lifecycle_stage in ('active', 'new') or is_subscribed", "c.lifecycle_stage in ('active', 'new') or c.is_subscribed"),
        ("orders_365d >= 2 and days_since_last_open < 60", "f.orders_365d >= 2 and f.days_since_last_open < 60"),
        ("seniority = 'c_level' or industry = 'manufacturing'", "f.seniority = 'c_level' or f.industry = 'manufacturing'"),
        # rule helpers expand over the published memberships and categories
        (
            "in_segment('behaviour', 'repeat_buyer') and not in_segment('region', 'europe')",
            (
                "c.customer_id in (select customer_id from marts.fct_segment_memberships where segment_family = 'behaviour' "
                "and segment = 'repeat_buyer') and c.region <> 'europe'"
            ),
        ),
        (
            "has_tag('newsletter_signup') or bought_category('beauty')",
            (
                "c.customer_id in (select customer_id from marts.fct_segment_memberships where segment_family = 'crm_tag' "
                "and segment = 'newsletter_signup') or c.customer_id in (select customer_id from "
                "marts.fct_customer_categories where category = 'beauty')"
            ),
        ),
    ],
)
def test_preview_counts_what_sql_counts(published: Path, predicate: str, where: str) -> None:
    result = preview(published, predicate)
    [(size, emailable)] = rows(published, f"select count(*), count(*) filter (where c.is_emailable) {JOINED} where {where}")
    [(customers,)] = rows(published, "select count(*) from marts.dim_customers")
    assert (result.size, result.emailable, result.customers) == (size, emailable, customers)
    assert size > 0, "each rule selects someone in the S data"
    assert result.share_of_customers == round(size / customers, 4)
    assert result.as_of_date == TODAY.isoformat()
    ids = {cid for (cid,) in rows(published, f"select c.customer_id {JOINED} where {where}")}
    assert len(result.sample_customer_ids) == min(10, size) and set(result.sample_customer_ids) <= ids
    largest = rows(
        published,
        "select segment_family, segment, count(*) from marts.fct_segment_memberships "
        "where segment not like 'unknown%' group by all order by 3 desc, 1, 2 limit 5",
    )
    assert [(o.segment_family, o.segment, o.members) for o in result.overlaps] == largest
    for o in result.overlaps:
        [(both,)] = rows(
            published,
            f"select count(*) {JOINED} join marts.fct_segment_memberships m on m.customer_id = c.customer_id "
            f"where m.segment_family = '{o.segment_family}' and m.segment = '{o.segment}' and ({where})",
        )
        assert o.members_both == both and o.share_of_audience == round(both / size, 4)


def test_the_command_prints_sizes_overlaps_and_ids_never_emails(published: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(PUBLISHED_ENV, str(published))
    code, out, _ = command(["--predicate", "is_subscribed and counted_orders > 0"], capsys)
    assert code == 0
    assert "size:" in out and "emailable:" in out and "overlap with the 5 largest segments" in out
    assert "@" not in out, "no email is ever printed"
    code, out, _ = command(["--predicate", "is_subscribed and counted_orders > 0", "--json"], capsys)
    answer = json.loads(out)
    emails = {email for (email,) in rows(published, "select email from marts.dim_customers")}
    assert code == 0 and "@" not in out and not set(answer["sample_customer_ids"]) & emails
    assert all(re.fullmatch(r"[0-9a-f]{32}", cid) for cid in answer["sample_customer_ids"])


def test_a_declared_audience_previews_as_its_memberships(published: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(PUBLISHED_ENV, str(published))
    code, out, _ = command(["--audience", "subscribed_prospects", "--json"], capsys)
    [(members,)] = rows(
        published,
        "select count(*) from marts.fct_segment_memberships where segment_family = 'custom' and segment = 'subscribed_prospects'",
    )
    assert code == 0 and json.loads(out)["size"] == members > 0
    code, _, err = command(["--audience", "no_such_audience"], capsys)
    assert code == 2 and "no custom audience named 'no_such_audience'" in err and "subscribed_prospects" in err


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        *REFUSED_PREDICATES,
        ("region > 5", "the predicate fails on the published dim_customers"),
        ("has_tag(region)", "helper has_tag takes quoted segment names only"),
        ("in_segment('custom', 'high_value_europe')", "'custom' is not one"),
        ("has_tag('x') and customer_id in (select 1)", "unknown column(s) select"),
        ("   ", "the predicate is empty"),
    ],
)
def test_unsafe_or_broken_predicates_are_refused_with_a_clear_message(
    published: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], predicate: str, message: str
) -> None:
    monkeypatch.setenv(PUBLISHED_ENV, str(published))
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    code, out, err = command(["--predicate", predicate], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err, err
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before


def test_nothing_published_is_refused_with_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(PUBLISHED_ENV, str(tmp_path / "audience.duckdb"))
    code, out, err = command(["--predicate", "counted_orders > 0"], capsys)
    assert code == 2 and out == ""
    assert "nothing has been published" in err and "python -m audience run" in err
    assert not (tmp_path / "audience.duckdb").exists(), "preview never creates the published file"


def macro_list(name: str) -> list[str]:
    text = (PROJECT_DIR / "macros" / "custom_audiences.sql").read_text()
    body = re.search(r"macro " + name + r"\(\).*?return\(\[(.*?)\]\)", text, re.S)
    assert body, f"macro {name} not found"
    return re.findall(r"'([^']+)'", body.group(1))


def test_the_preview_rules_mirror_the_custom_audience_macro() -> None:
    assert PREDICATE_WORDS == macro_list("predicate_words")
    assert PREDICATE_FUNCTIONS == macro_list("predicate_functions")
    text = (PROJECT_DIR / "macros" / "custom_audiences.sql").read_text()
    helpers = re.search(r"macro predicate_helpers\(\).*?return\((\{.*?\})\)", text, re.S)
    assert helpers and json.loads(helpers.group(1).replace("'", '"')) == HELPERS
    for pattern in ("(has_tag|bought_category)", "(in_segment)", "(has_tag|bought_category|in_segment)"):
        assert pattern in text and pattern in (PROJECT_DIR / "audience" / "preview.py").read_text()
    text = (PROJECT_DIR / "macros" / "custom_audiences.sql").read_text()
    for name in ("ALLOWED_NODES", "OPERATORS", "REFUSED_NODES"):
        for value in getattr(preview_module, name):
            assert f"'{value}'" in text, f"{name}: {value} is not in the macro"
