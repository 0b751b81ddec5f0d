"""``python -m audience preview``: how many customers a rule selects, from the published
build, in seconds and without building anything.

    python -m audience preview --predicate "value_tier = 'high' and region = 'europe'"
    python -m audience preview --audience high_value_europe

It opens the published database (``audience.project.published_path()``) read-only, with
file and network access switched off for the session, and answers: the audience's size
and share of customers, how many of them are emailable, its overlap with the five largest
segments (leaving out the `unknown` segments of exhaustive families), and ten sample
customer_ids (never emails).

The predicate is one SQL expression over the columns of ``marts.dim_customers`` (and of
``marts.dim_customer_features`` when it is published), with the rule helpers
``has_tag('trade_show')``, ``bought_category('beauty')`` and
``in_segment('behaviour', 'vip')``. Before anything runs it must pass the same rules as
a custom audience's predicate in ``macros/custom_audiences.sql``: :func:`expand_helpers`
mirrors the macro ``predicate_helpers_expanded`` (helper calls take quoted segment names
only; the rules then read the text with each call replaced by ``true``),
:func:`word_error` mirrors ``predicate_word_error`` and :func:`structure_error` mirrors
``duckdb__predicate_structure_error`` (DuckDB's own parser, ``json_serialize_sql``, must
give a plain expression). The word, function and helper lists below are the macro's
``predicate_words()``, ``predicate_functions()`` and ``predicate_helpers()``; a pytest
reads both files and fails when they differ, so change them together. Helpers expand
over the published marts (``fct_segment_memberships``, ``fct_customer_categories``),
which hold the same rows the build's expansion reads.

Exit codes: 0 answered; 2 refused (an unsafe or broken predicate, an unknown audience,
nothing published); 4 the published database is held open by a writer.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # duckdb is imported where it is used: `python -m audience --help` must not load it.
    import duckdb

from audience import publish
from audience.project import project_vars, published_path

#: The macro predicate_words(): SQL words a predicate may use besides columns and functions.
PREDICATE_WORDS = [
    "and", "or", "not", "in", "is", "null", "true", "false", "between", "symmetric", "like", "ilike",
    "similar", "to", "escape", "distinct", "from", "case", "when", "then", "else", "end", "as", "cast",
    "date", "timestamp", "interval", "varchar", "integer", "int", "bigint", "decimal", "numeric",
    "double", "boolean", "text", "year", "quarter", "month", "week", "day", "days", "hour", "minute",
    "second", "dow", "doy", "epoch", "current_date", "current_timestamp",
]  # fmt: skip

#: The macro predicate_functions(): scalar functions a predicate may call.
PREDICATE_FUNCTIONS = [
    "lower", "upper", "trim", "ltrim", "rtrim", "length", "coalesce", "nullif", "abs", "round",
    "floor", "ceil", "ceiling", "greatest", "least", "substr", "substring", "concat", "replace",
    "position", "date_trunc", "date_part", "extract", "mod", "sign", "cast",
]  # fmt: skip

#: The macro predicate_helpers(): rule helpers and how many quoted arguments each takes.
HELPERS = {"has_tag": 1, "bought_category": 1, "in_segment": 2}
_LITERAL = r"'(?:[^']|'')*'"
#: The macro's pattern: a string literal, a complete helper call, or a helper name with any
#: other arguments (refused).
_HELPER_CALLS = re.compile(
    "(?i)" + _LITERAL
    + r"|(?<![.\w])(has_tag|bought_category)\s*\(\s*(" + _LITERAL + r")\s*\)"
    + r"|(?<![.\w])(in_segment)\s*\(\s*(" + _LITERAL + r")\s*,\s*(" + _LITERAL + r")\s*\)"
    + r"|(?<![.\w])(has_tag|bought_category|in_segment)\s*\("
)  # fmt: skip
_SLUG = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")

#: Node classes of DuckDB's parse tree a plain expression is made of.
ALLOWED_NODES = [
    "COLUMN_REF",
    "CONSTANT",
    "COMPARISON",
    "CONJUNCTION",
    "OPERATOR",
    "FUNCTION",
    "CASE",
    "CAST",
    "BETWEEN",
    "TYPE",
]
#: Operators DuckDB's parser gives as functions.
OPERATORS = ["+", "-", "*", "/", "%", "||", "~~", "!~~", "~~*", "!~~*", "regexp_full_match"]
REFUSED_NODES = ["SUBQUERY", "TABLE_FUNCTION", "STAR", "PARAMETER", "LAMBDA", "WINDOW", "COLLATE"]

OVERLAP_SEGMENTS = 5
SAMPLE_SIZE = 10


class PreviewRefused(ValueError):
    """The predicate, the audience or the published database cannot be previewed."""


def _is_slug(value: str) -> bool:
    return bool(_SLUG.match(value)) and len(value) <= 63


def expand_helpers(predicate: str, families: list[str]) -> tuple[str, str]:
    """(the predicate with each helper call replaced by ``true``, with each call expanded
    over the published marts). Mirrors the macro ``predicate_helpers_expanded``: a helper
    takes quoted segment names only, and in_segment / has_tag a family of ``families``
    (the registry's, without the custom family). PreviewRefused otherwise."""
    checked: list[str] = []
    expanded: list[str] = []
    last = 0
    for match in _HELPER_CALLS.finditer(predicate):
        checked.append(predicate[last : match.start()])
        expanded.append(predicate[last : match.start()])
        last = match.end()
        if match.group(6):
            raise PreviewRefused(
                f"predicate refused: helper {match.group(6).lower()} takes quoted segment names only, e.g. "
                "has_tag('trade_show'), bought_category('beauty'), in_segment('behaviour', 'vip'). "
                f"Predicate: {predicate}"
            )
        if not (match.group(1) or match.group(3)):
            checked.append(match.group(0))
            expanded.append(match.group(0))
            continue
        helper = (match.group(1) or match.group(3)).lower()
        values = []
        for raw in (match.group(2), match.group(4), match.group(5)):
            if raw:
                value = raw[1:-1].replace("''", "'")
                if not _is_slug(value):
                    raise PreviewRefused(
                        f"predicate refused: {helper} takes segment names (lowercase a-z and 0-9 words joined "
                        f"by single '_'), got {raw}. Predicate: {predicate}"
                    )
                values.append(value)
        if helper == "bought_category":
            sql = (
                f"customer_id in (select customer_id from marts.fct_customer_categories where category = '{values[0]}')"
            )
        else:
            family, segment = ("crm_tag", values[0]) if helper == "has_tag" else (values[0], values[1])
            if family not in families:
                raise PreviewRefused(
                    f"predicate refused: {helper} reads a segment family other than the custom one; "
                    f"'{family}' is not one (families: {', '.join(families)}). Predicate: {predicate}"
                )
            sql = (
                "customer_id in (select customer_id from marts.fct_segment_memberships "
                f"where segment_family = '{family}' and segment = '{segment}')"
            )
        checked.append("true")
        expanded.append(f"({sql})")
    checked.append(predicate[last:])
    expanded.append(predicate[last:])
    return "".join(checked), "".join(expanded)


def helper_families() -> list[str]:
    """The registry's families (var segment_families) a helper may read: all but the ones
    made by a source (the custom family)."""
    return [name for name, family in project_vars()["segment_families"].items() if not family.get("source")]


def word_error(predicate: str, columns: list[str]) -> str:
    """Why the predicate's words are refused, or '' when they pass. Mirrors the macro
    ``predicate_word_error`` of macros/custom_audiences.sql: string literals are set
    aside, then every word must be a column, an allowed SQL word or an allowed function."""
    text = re.sub(r"'(?:[^']|'')*'", "''", predicate)
    if any(token in text for token in (";", "--", "/*", '"', "$")):
        return "a predicate is one expression: no ';', comments, quoted names or parameters"
    # 'from' only in "is [not] distinct from" and "extract(part from x)"
    text = re.sub(r"(?i)\bdistinct\s+from\b", "distinct", text)
    text = re.sub(r"(?i)\bextract\s*\(\s*([a-z]+)\s+from\b", r"extract(\1,", text)
    words = [word for word in PREDICATE_WORDS if word != "from"]
    calls: list[str] = []
    unknown: list[str] = []
    for found, paren in re.findall(r"(?<![.\w])([A-Za-z_][A-Za-z0-9_]*)\b(\s*\()?", text):
        word = found.lower()
        if paren and word not in PREDICATE_FUNCTIONS and word not in words and word not in calls:
            calls.append(word)
        elif not paren and word not in words and word not in columns and word not in unknown:
            unknown.append(word)
    if calls:
        return (
            f"function(s) or keyword(s) not allowed: {', '.join(calls)} "
            f"(allowed functions: {', '.join(PREDICATE_FUNCTIONS)})"
        )
    if unknown:
        return f"unknown column(s) {', '.join(unknown)}. Columns: {', '.join(columns)}"
    return ""


def structure_error(predicate: str, columns: list[str]) -> str:
    """Why DuckDB's parser refuses the predicate as a plain expression over the columns,
    or ''. Mirrors the macro ``duckdb__predicate_structure_error``: one SELECT from
    dim_customers with nothing but a WHERE clause made of allowed nodes, functions and
    columns. Parsing happens in a connection of its own, on no database."""
    import duckdb

    sql = f"select 1 from dim_customers where ({predicate})"
    with duckdb.connect() as con:
        parsed = con.execute("select json_serialize_sql(?)", [sql]).fetchall()[0][0]
    tree = json.loads(parsed)
    if tree.get("error"):
        return f"broken predicate ({tree.get('error_message')})"
    statements = tree.get("statements") or []
    node = statements[0]["node"] if len(statements) == 1 else {}
    if (
        node.get("type") != "SELECT_NODE"
        or node["from_table"].get("table_name") != "dim_customers"
        or node["modifiers"]
        or node["group_expressions"]
        or node["having"]
        or node["qualify"]
    ):
        return "a predicate is one expression over dim_customers, not a query"
    where = json.dumps(node["where_clause"])
    refused: list[str] = []
    for kind in re.findall(r'"(?:class|type)": ?"([A-Z_]+)"', where):
        if kind in REFUSED_NODES and kind.lower() not in refused:
            refused.append(kind.lower())
    for kind in re.findall(r'"class": ?"([A-Z_]+)"', where):
        if kind not in ALLOWED_NODES and kind.lower() not in refused:
            refused.append(kind.lower())
    for function in re.findall(r'"function_name": ?"([^"]+)"', where):
        if function not in OPERATORS and function not in PREDICATE_FUNCTIONS and function not in refused:
            refused.append(function)
    for column in re.findall(r'"column_names": ?\[([^\]]*)\]', where):
        if column.replace('"', "").lower() not in columns and column not in refused:
            refused.append(column)
    if refused:
        return f"not a plain expression over dim_customers columns (refused: {', '.join(refused)})"
    return ""


def refusal(predicate: str, columns: list[str]) -> str:
    """Why the predicate (helper calls already replaced, :func:`expand_helpers`) may not
    run, or '': the word rules, then DuckDB's parser."""
    if not predicate.strip():
        return "the predicate is empty"
    return word_error(predicate, columns) or structure_error(predicate, columns)


@dataclass
class Overlap:
    segment_family: str
    segment: str
    members: int
    members_both: int
    share_of_audience: float | None
    share_of_segment: float | None


@dataclass
class Preview:
    predicate: str
    as_of_date: str
    build_id: str
    customers: int
    size: int
    share_of_customers: float | None
    emailable: int
    overlaps: list[Overlap]
    sample_customer_ids: list[str]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        name.lower()
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    ]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def declared_predicate(name: str) -> str:
    """The predicate of the custom audience ``name`` in var custom_audiences."""
    audiences = project_vars().get("custom_audiences") or []
    for audience in audiences:
        if isinstance(audience, dict) and audience.get("name") == name:
            return str(audience.get("predicate") or "")
    names = ", ".join(str(a.get("name")) for a in audiences if isinstance(a, dict)) or "none"
    raise PreviewRefused(f"no custom audience named {name!r} in dbt_project.yml (declared: {names})")


def preview(published: Path, predicate: str) -> Preview:
    """Answer for ``predicate`` from the published database; PreviewRefused when it is
    refused or nothing is published, publish.DatabaseBusy when a writer holds the file."""
    import duckdb

    latest = publish.latest_publish(published)
    if latest is None:
        raise PreviewRefused(
            f"nothing has been published at {published}: preview reads the published build only. "
            "Run make run (python -m audience run) first."
        )
    with publish.read_only(published) as con:
        # Defence in depth: whatever got past the rules can read no file and no URL.
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
        customer_columns = _columns(con, "dim_customers")
        feature_columns = [c for c in _columns(con, "dim_customer_features") if c not in customer_columns]
        columns = customer_columns + feature_columns
        checked, expanded = expand_helpers(predicate, helper_families())
        problem = refusal(checked, columns)
        if problem:
            raise PreviewRefused(f"predicate refused: {problem}. Predicate: {predicate}")
        features = ""
        if feature_columns:
            features = (
                ", " + ", ".join(f"features.{c}" for c in feature_columns) + " from marts.dim_customers as customers "
                "left join marts.dim_customer_features as features on customers.customer_id = features.customer_id"
            )
        else:
            features = " from marts.dim_customers as customers"
        relation = (
            f"with dim_customers as (select customers.*{features}), "
            f"chosen as (select customer_id, is_emailable from dim_customers where coalesce(({expanded}), false))"
        )
        try:
            [(customers, size, emailable)] = con.execute(
                f"{relation} select (select count(*) from dim_customers), count(*), "
                "count(*) filter (where is_emailable) from chosen"
            ).fetchall()
            overlap_rows = con.execute(
                f"{relation}, largest as (select segment_family, segment, count(*) as members "
                "from marts.fct_segment_memberships where segment not like 'unknown%' "
                "group by segment_family, segment "
                f"order by members desc, segment_family, segment limit {OVERLAP_SEGMENTS}) "
                "select largest.segment_family, largest.segment, largest.members, count(chosen.customer_id) "
                "from largest left join marts.fct_segment_memberships as m "
                "on m.segment_family = largest.segment_family and m.segment = largest.segment "
                "left join chosen on chosen.customer_id = m.customer_id "
                "group by largest.segment_family, largest.segment, largest.members "
                "order by largest.members desc, largest.segment_family, largest.segment"
            ).fetchall()
            sample = [
                cid
                for (cid,) in con.execute(
                    f"{relation} select customer_id from chosen order by customer_id limit {SAMPLE_SIZE}"
                ).fetchall()
            ]
        except duckdb.Error as error:
            raise PreviewRefused(f"the predicate fails on the published dim_customers: {error}") from None
    return Preview(
        predicate=predicate,
        as_of_date=latest.as_of_date.isoformat(),
        build_id=latest.build_id,
        customers=customers,
        size=size,
        share_of_customers=_share(size, customers),
        emailable=emailable,
        overlaps=[
            Overlap(family, segment, members, both, _share(both, size), _share(both, members))
            for family, segment, members, both in overlap_rows
        ],
        sample_customer_ids=sample,
    )


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f} %"


def render(result: Preview) -> str:
    """The preview as text for a terminal."""
    lines = [
        f"preview of build {result.build_id} (as of {result.as_of_date})",
        f"predicate: {result.predicate}",
        f"size:      {result.size:,} customers ({_percent(result.share_of_customers)} of {result.customers:,})",
        f"emailable: {result.emailable:,} ({_percent(_share(result.emailable, result.size))} of the audience)",
        f"overlap with the {len(result.overlaps)} largest segments:",
        f"  {'segment':<34} {'members':>8} {'in both':>8} {'of audience':>12} {'of segment':>11}",
    ]
    for o in result.overlaps:
        lines.append(
            f"  {o.segment_family + '.' + o.segment:<34} {o.members:>8,} {o.members_both:>8,} "
            f"{_percent(o.share_of_audience):>12} {_percent(o.share_of_segment):>11}"
        )
    lines.append(f"sample customer_ids ({len(result.sample_customer_ids)}):")
    lines.extend(f"  {cid}" for cid in result.sample_customer_ids)
    return "\n".join(lines)


def cmd_preview(args: argparse.Namespace) -> int:
    """Handler of the preview subcommand."""
    published = published_path()
    try:
        predicate = args.predicate if args.predicate is not None else declared_predicate(args.audience)
        result = preview(published, predicate)
    except PreviewRefused as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except publish.DatabaseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
    print(json.dumps(asdict(result), indent=2) if args.json else render(result))
    return 0


def register(subparsers: Any) -> None:
    """Add the ``preview`` subcommand to the command line's subparsers (cli.main)."""
    parser = subparsers.add_parser(
        "preview",
        help="size, emailable count, overlaps and a sample of a rule, from the published build (no build)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rule = parser.add_mutually_exclusive_group(required=True)
    rule.add_argument("--predicate", help="a SQL expression over dim_customers (and dim_customer_features) columns")
    rule.add_argument("--audience", help="the name of a custom audience declared in dbt_project.yml")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.set_defaults(handler=cmd_preview)
