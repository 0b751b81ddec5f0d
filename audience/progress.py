"""What ``python -m audience run`` shows while dbt builds: a compact progress display
instead of dbt's log lines, then the warnings explained, and dbt's own output of every
failing node in full.

dbt still writes its complete log to ``logs/dbt.log``; ``run --verbose`` prints dbt's
console output unchanged instead of this display.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from audience.project import node_results, run_dbt

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult

#: The warn-level tests that warn on the demo data (messy on purpose, SPEC sections 1 and
#: 2), by test name, each explained in one line. A pytest checks that every name is a
#: test of the project.
EXPECTED_WARNINGS: dict[str, str] = {
    "survivor_is_unambiguous_base_crm__contact_tags_event": (
        "crm_contact_tags: exact ties between versions, broken by the tie rule (SPEC section 2)"
    ),
    "survivor_is_unambiguous_base_shop__checkouts_event": (
        "shop_checkouts: exact ties between versions, broken by the tie rule (SPEC section 2)"
    ),
    "survivor_is_unambiguous_base_shop__customers_entity": (
        "shop_customers: exact ties between versions, broken by the tie rule (SPEC section 2)"
    ),
    "survivor_is_unambiguous_base_email__events_event": (
        "email_events: exact ties between versions, broken by the tie rule (SPEC section 2)"
    ),
    "survivor_is_unambiguous_base_shop__order_items_event": (
        "shop_order_items: exact ties between versions, broken by the tie rule (SPEC section 2)"
    ),
    "survivor_is_unambiguous_base_shop__refunds_event": (
        "shop_refunds: exact ties between versions, broken by the tie rule (SPEC section 2)"
    ),
    "relationships_stg_crm__contact_tags_contact_id__contact_id__ref_stg_crm__contacts_": (
        "tags of unknown contacts: kept, they give no segment (orphans are planted)"
    ),
    "relationships_stg_crm__contacts_account_id__account_id__ref_stg_crm__accounts_": (
        "contacts of unknown accounts: their company size is unknown (orphans are planted)"
    ),
    "relationships_stg_email__events_campaign_id__campaign_id__ref_stg_email__campaigns_": (
        "email events of unknown or rejected campaigns: kept, with no campaign to credit"
    ),
    "relationships_stg_shop__checkouts_customer_id__customer_id__ref_stg_shop__customers_": (
        "checkouts of unknown shop customers: identified by their own email when valid"
    ),
    "relationships_stg_shop__checkouts_completed_order_id__order_id__ref_stg_shop__orders_": (
        "checkouts completed by an unknown or rejected order: kept, never an abandoned cart"
    ),
    "relationships_stg_shop__order_items_order_id__order_id__ref_stg_shop__orders_": (
        "items of unknown or rejected orders: kept, they add nothing to category affinity"
    ),
    "relationships_stg_shop__orders_customer_id__customer_id__ref_stg_shop__customers_": (
        "orders of unknown shop customers: identified by their own email when valid"
    ),
    "expression_is_true_fct_campaign_compliance_sends_after_suppression_0_and_sends_never_subscribed_0": (
        "campaigns that sent to suppressed or never-subscribed people (planted by the demo)"
    ),
    "segment_size_drift_fct_segment_performance_": (
        "segments that moved more than max_daily_size_change_share since the last kept date"
    ),
    "segments_not_below_fct_segment_performance_": (
        "segments under min_segment_size members (small categories and tags)"
    ),
}

#: dbt's parse-time warning for the view marts whose contracts declare constraints.
VIEW_CONSTRAINTS_EVENT = "UnsupportedConstraintMaterialization"
VIEW_CONSTRAINTS_EXPLAINED = "view marts whose contracts declare constraints: DuckDB enforces none on views"

#: Warn-level events that are test results: reported from the run results instead.
_TEST_RESULT_EVENTS = {"LogTestResult", "RunResultWarning", "RunResultWarningMessage"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_MILESTONES = (25, 50, 75)
_BAR_WIDTH = 30


class BuildDisplay:
    """A dbt callback: counts finished nodes and shows progress on ``stream``, one line
    updated in place on a terminal, a line at 25, 50 and 75 % otherwise. Error-level
    events (a failing node's output) are printed in full as they come, with the path of
    their compiled code."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.total = 0
        self.finished = 0
        self.view_constraint_warnings = 0
        self.other_warnings: list[str] = []
        self._failed_nodes: set[str] = set()
        self._milestones = list(_MILESTONES)
        self._started = time.monotonic()
        self._shown_at = 0.0
        self._line_open = False
        self._lock = threading.Lock()

    def __call__(self, msg: Any) -> None:
        name, level = msg.info.name, msg.info.level
        with self._lock:
            if name == "LogStartLine" and not self.total:
                self.total = int(msg.data.total)
            elif name == "NodeFinished":
                self.finished += 1
                self._progress()
            elif level == "error":
                self._failed_nodes.add(msg.data.node_info.unique_id if _has_node(msg) else "")
                self._print(self._text(msg.info.msg))
            elif name == "SQLCompiledPath" and _has_node(msg) and msg.data.node_info.unique_id in self._failed_nodes:
                self._print(self._text(msg.info.msg))
            elif name == VIEW_CONSTRAINTS_EVENT:
                self.view_constraint_warnings += 1
            elif level == "warn" and name not in _TEST_RESULT_EVENTS:
                self.other_warnings.append(self._text(msg.info.msg))

    def seconds(self) -> float:
        return time.monotonic() - self._started

    def close(self) -> None:
        """End the progress line, if one is open."""
        with self._lock:
            self._end_line()

    def _progress(self) -> None:
        if not self.total:
            return
        done = min(self.finished, self.total)
        percent = 100 * done // self.total
        if self.tty:
            now = time.monotonic()
            if done < self.total and now - self._shown_at < 0.1:
                return
            self._shown_at = now
            filled = _BAR_WIDTH * done // self.total
            bar = "#" * filled + "." * (_BAR_WIDTH - filled)
            self.stream.write(f"\r  [{bar}] {done}/{self.total} nodes, {self.seconds():.0f} s")
            self.stream.flush()
            self._line_open = True
        elif self._milestones and percent >= self._milestones[0]:
            while self._milestones and percent >= self._milestones[0]:
                self._milestones.pop(0)
            print(f"  {percent} % ({done} of {self.total} nodes) after {self.seconds():.0f} s", file=self.stream)

    def _print(self, text: str) -> None:
        self._end_line()
        print(text, file=self.stream)

    def _end_line(self) -> None:
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False

    def _text(self, text: str) -> str:
        return text if self.tty else _ANSI.sub("", text)


def _has_node(msg: Any) -> bool:
    return hasattr(msg.data, "node_info") and bool(msg.data.node_info.unique_id)


def warning_lines(result: dbtRunnerResult, display: BuildDisplay) -> list[str]:
    """One line per warning of the build: expected ones explained, others with dbt's
    message; empty when nothing warned."""
    lines = []
    for entry in node_results(result):
        if str(entry.status) != "warn":
            continue
        rows = f"{entry.failures:>7,}" if isinstance(entry.failures, int) else " " * 7
        explained = EXPECTED_WARNINGS.get(entry.node.name)
        if explained is None:
            message = _ANSI.sub("", str(entry.message or "")).strip()
            lines.append(f"{rows}  {entry.node.name}: {message} (not expected on the demo data)")
        else:
            lines.append(f"{rows}  {explained}")
    if display.view_constraint_warnings:
        lines.append(f"{display.view_constraint_warnings:>7,}  {VIEW_CONSTRAINTS_EXPLAINED}")
    lines += [f"         {warning}" for warning in display.other_warnings]
    return lines


def build(args: list[str], verbose: bool) -> dbtRunnerResult:
    """Run dbt ``args`` (a build) with the compact display, or with dbt's own console
    output when ``verbose``; the warnings are explained after a quiet run."""
    if verbose:
        return run_dbt(args)
    display = BuildDisplay()
    try:
        result = run_dbt([*args, "--log-level", "none"], callbacks=[display])
    finally:
        display.close()
    counts = NodeCounts.of(result)
    print(
        f"built {counts.models_built} models in {display.seconds():.0f} s"
        + (f" ({counts.models_failed} failed)" if counts.models_failed else "")
        + f"; tests: {counts.tests_passed} passed, {counts.tests_warned} warned, {counts.tests_failed} failed"
    )
    lines = warning_lines(result, display)
    if lines:
        print("warnings (rows), expected on the demo data unless marked; details: logs/dbt.log, run --verbose")
        for line in lines:
            print(line)
    return result


@dataclass(frozen=True)
class NodeCounts:
    """What a dbt build did, counted from its results."""

    models_built: int
    models_failed: int
    tests_passed: int
    tests_warned: int
    tests_failed: int

    @classmethod
    def of(cls, result: dbtRunnerResult) -> NodeCounts:
        seen = Counter(
            (
                "test" if entry.node.resource_type in ("test", "unit_test") else entry.node.resource_type,
                str(entry.status),
            )
            for entry in node_results(result)
        )
        return cls(
            models_built=seen["model", "success"],
            models_failed=seen["model", "error"],
            tests_passed=seen["test", "pass"],
            tests_warned=seen["test", "warn"],
            tests_failed=seen["test", "fail"] + seen["test", "error"],
        )
