"""The freshness gate of the main command (SPEC section 7).

It runs ``dbt source freshness`` and refuses to publish marts when any source is past
its error threshold. It is not part of ``dbt build``, so builds for past dates work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from audience.project import dbt_vars, node_results, run_dbt
from audience.raw_schema import raw_locations


@dataclass(frozen=True)
class SourceAge:
    """Freshness of one raw table."""

    table: str
    status: str
    age_seconds: float | None


class FreshnessError(RuntimeError):
    """Raised when the freshness check could not run at all (e.g. a missing table)."""


def check_sources(target: str | None = None, extra_vars: dict[str, Any] | None = None) -> list[SourceAge]:
    """Freshness of every raw table, as dbt reports it (on ``target``, else the default;
    with ``extra_vars``, e.g. where the sources are)."""
    result = run_dbt(
        [
            *("source", "freshness", "--quiet"),
            *(["--target", target] if target else []),
            *(["--vars", json.dumps(extra_vars, default=str)] if extra_vars else []),
        ]
    )
    if result.result is None:
        raise FreshnessError(f"dbt source freshness could not run: {result.exception}")
    ages = []
    for entry in node_results(result):
        if entry.node.resource_type != "source":  # the project's hooks run too
            continue
        age = getattr(entry, "age", None)
        max_loaded_at = getattr(entry, "max_loaded_at", None)
        if max_loaded_at is not None and max_loaded_at.year == 1:
            age = None  # dbt's stand-in for "no row landed before the check"
        ages.append(SourceAge(entry.node.name, str(entry.status), age))
    return ages


def human_age(seconds: float | None) -> str:
    """An age as days and hours, e.g. '3 d 4 h'."""
    if seconds is None:
        return "unknown age"
    hours = int(seconds // 3600)
    return f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h {int(seconds % 3600) // 60} min"


def stale_message(ages: list[SourceAge], extra_vars: dict[str, Any] | None = None) -> str | None:
    """The refusal message when a source is past its error threshold, else None; tables
    are named where the vars (with ``extra_vars``) place them."""
    stale = [age for age in ages if age.status in ("error", "runtime error")]
    if not stale:
        return None
    locations = raw_locations(dbt_vars(extra_vars))
    lines = [
        "Refusing to publish marts: these raw tables are past their freshness error "
        "threshold (48 h since the last _loaded_at):"
    ]
    lines += [
        f"  - {locations[age.table].relation(age.table)}: no rows landed before the check ({age.status})"
        if age.age_seconds is None
        else f"  - {locations[age.table].relation(age.table)}: last loaded {human_age(age.age_seconds)} ago "
        f"({age.status})"
        for age in stale
    ]
    lines.append(
        "Load fresh data, regenerate the demo data (make run ARGS=--regenerate), or "
        "publish anyway with make run ARGS='--override freshness'."
    )
    return "\n".join(lines)
