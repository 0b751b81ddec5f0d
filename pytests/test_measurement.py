"""SPEC sections 6 and 9 on a pinned-date fixture built for three dates of history:
forward outcomes worked out by hand for a few customers, lift against statsmodels on a
planted segment whose true lift is known, and the incremental outcomes equal to a full
rebuild.

History dates: D1 2026-06-01, D2 2026-06-05, L 2026-06-10 (the build's as-of date, in
the past, so a window is mature when D + N <= L). Vars: holdout_pct 50 and
global_holdout_pct 10, so every group has members.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from conftest import Db, Rows, dbt_in, load_raw

D1, D2, L = dt.date(2026, 6, 1), dt.date(2026, 6, 5), dt.date(2026, 6, 10)
LIST = ["behaviour.one_time_buyer", "region.unknown", "region.europe"]
VARS = {"holdout_pct": 50, "global_holdout_pct": 10, "priority_lists": [{"name": "rescue", "segments": LIST}]}
PLANTED = 600
PLANTED_SHARE = {"treatment": 0.30, "control": 0.15, "global_control": 0.10}


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2026-{day} {hour:02d}:00")


def cid(email: str) -> str:
    return hashlib.md5(email.encode()).hexdigest()


def bucket(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest()[:8], 16) % 100


def group(family: str, segment: str, email: str) -> str:
    if bucket(f"global:{cid(email)}") < VARS["global_holdout_pct"]:
        return "global_control"
    return "control" if bucket(f"{family}.{segment}:{cid(email)}") < VARS["holdout_pct"] else "treatment"


def subscribe(email: str, day: str = "05-01") -> dict[str, Any]:
    return {"event_id": f"sub-{email}", "email": email, "event_type": "subscribe", "occurred_at": at(day), "_loaded_at": at(day, 13)}


def order(order_id: str, email: str, day: str, amount: str, status: str = "completed") -> dict[str, Any]:
    return {
        "order_id": order_id, "email": email, "status": status, "currency": "USD", "total_amount": Decimal(amount),
        "discount_amount": Decimal("0"), "ordered_at": at(day), "updated_at": at(day), "_loaded_at": at(day, 13),
    }


def refund(refund_id: str, order_id: str, day: str, amount: str) -> dict[str, Any]:
    return {"refund_id": refund_id, "order_id": order_id, "amount": Decimal(amount), "refunded_at": at(day), "_loaded_at": at(day, 13)}


# Hand-checked customers, all in region `unknown` (no country). Their groups in
# region.unknown under VARS (asserted below): a, d global_control; c, g, k treatment;
# e, f, h, i, j control.
HAND = [f"{name}@hand.test" for name in "acdefghijk"]
HAND_GROUPS = {
    "a": "global_control", "d": "global_control", "c": "treatment", "g": "treatment", "k": "treatment",
    "e": "control", "f": "control", "h": "control", "i": "control", "j": "control",
}


def raw() -> Rows:
    events = [subscribe(email) for email in HAND if not email.startswith("j")]
    events += [
        subscribe("j@hand.test", "06-03"),  # a customer from 3 June: in D2's cohort, not D1's
        {"event_id": "unsub-e", "email": "e@hand.test", "event_type": "unsubscribe", "occurred_at": at("05-20"), "_loaded_at": at("05-20", 13)},
    ]
    orders = [
        order("c1", "c@hand.test", "06-08", "20.00"),  # D1 + 7: inside the 7-day window
        order("g0", "g@hand.test", "06-01", "99.00"),  # on D1 itself: never counted for D1
        order("g1", "g@hand.test", "06-09", "30.00"),  # D1 + 8, D2 + 4
        order("k1", "k@hand.test", "06-03", "50.00"),  # refunded in full: not counted
        order("k2", "k@hand.test", "06-11", "70.00"),  # after L: ignored
        order("e1", "e@hand.test", "06-03", "40.00"),  # e is not emailable
        order("f1", "f@hand.test", "06-02", "10.00"),
        order("f2", "f@hand.test", "06-03", "15.00"),  # two orders, one converter
        order("h1", "h@hand.test", "06-03", "99.00", status="pending"),
        order("i1", "i@hand.test", "06-06", "12.50"),  # 2.50 refunded: 10.00
        order("a1", "a@hand.test", "06-04", "60.00"),
        order("j1", "j@hand.test", "06-06", "5.00"),
    ]
    refunds = [refund("rk1", "k1", "06-04", "50.00"), refund("ri1", "i1", "06-07", "2.50")]
    # Campaign c1 on 2 June: sent to a (subscribed), e (unsubscribed on 20 May) and x
    # (never subscribed; x is a customer through this send only).
    campaigns = [{"campaign_id": "c1", "campaign_name": "June", "campaign_type": "promotion", "sent_at": at("06-02"), "_loaded_at": at("06-02", 13)}]
    events += [
        {"event_id": f"send-{who}", "campaign_id": "c1", "email": f"{who}@hand.test", "event_type": "send", "occurred_at": at("06-02"), "_loaded_at": at("06-02", 13)}
        for who in "aex"
    ]
    # The planted segment: region europe (shop customers in Germany). On 3 June, the
    # first 30 % of its treatment members, 15 % of its control and 10 % of its global
    # control buy: a true lift of about 15 points against control, 20 against global.
    planted = [f"p{number:03d}@plant.test" for number in range(PLANTED)]
    customers = [
        {"customer_id": f"S{number}", "email": email, "country": "DE", "created_at": at("05-01"), "updated_at": at("05-01"), "_loaded_at": at("05-01", 13)}
        for number, email in enumerate(planted)
    ]
    events += [subscribe(email) for email in planted]
    by_group: dict[str, list[str]] = {}
    for email in planted:
        by_group.setdefault(group("region", "europe", email), []).append(email)
    for name, members in by_group.items():
        for email in members[: int(len(members) * PLANTED_SHARE[name])]:
            orders.append(order(f"o-{email}", email, "06-03", "10.00"))
    return {"email_events": events, "email_campaigns": campaigns, "shop_orders": orders, "shop_refunds": refunds, "shop_customers": customers}


def build_date(workdir: Path, date: dt.date, command: str = "build", extra: list[str] | None = None) -> None:
    variables = json.dumps({"as_of_date": date.isoformat(), **VARS})
    result = dbt_in(workdir, workdir / "audience.duckdb", [command, *(extra or []), "--vars", variables])
    assert result.success, f"dbt {command} as of {date} failed: {result.exception or 'see ' + str(workdir / 'logs')}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("measurement")
    load_raw(workdir / "audience.duckdb", raw())
    build_date(workdir, D1)
    build_date(workdir, D2, "run")
    build_date(workdir, L)
    return workdir


def db(workdir: Path) -> Db:
    return Db(workdir / "audience.duckdb")


def outcomes(workdir: Path, where: str = "true") -> dict[tuple, tuple]:
    return {
        tuple(row[:5]): tuple(row[5:])
        for row in db(workdir).rows(
            "select cohort_date, segment_family, segment, outcome_group, window_days, members, converters, "
            f"revenue_usd, conversion_rate, is_mature, measured_as_of_date from marts.fct_segment_outcomes where {where}"
        )
    }


def test_fixture_groups_are_the_hash_rule() -> None:
    assert {email[0]: group("region", "unknown", email) for email in HAND} == HAND_GROUPS


def test_global_control_follows_the_md5_rule_and_is_never_sendable(built: Path) -> None:
    rows = db(built).rows("select customer_id, is_global_control from marts.dim_customers")
    assert len(rows) == PLANTED + len(HAND) + 1  # x@hand.test
    assert all(flag == (bucket(f"global:{customer}") < 10) for customer, flag in rows)
    kept = db(built).rows(
        "select as_of_date, count(*) filter (where is_global_control and is_sendable), "
        "count(*) filter (where is_global_control) from marts.fct_segment_membership_history group by all order by 1"
    )
    assert [date for date, *_ in kept] == [D1, D2, L]
    assert all(sendable == 0 and held > 0 for _, sendable, held in kept)


def test_hand_computed_outcomes_for_two_cohorts_and_windows(built: Path) -> None:
    got = outcomes(built, "segment_family = 'region' and segment = 'unknown'")

    def row(date: dt.date, group_name: str, window: int, members: int, converters: int, revenue: str, mature: bool) -> tuple:
        rate = (Decimal(converters) / members).quantize(Decimal("0.0001"))
        return (date, "region", "unknown", group_name, window), (members, converters, Decimal(revenue), rate, mature, L)

    expected = dict(
        [
            # D1: emailable members c, g, k | f, h, i (e unsubscribed, j not yet a customer) | a, d.
            row(D1, "treatment", 7, 3, 1, "20.00", True),  # c on D1 + 7; g's order is D1 + 8
            row(D1, "control", 7, 3, 2, "35.00", True),  # f (10 + 15), i (12.50 - 2.50)
            row(D1, "global_control", 7, 2, 1, "60.00", True),  # a
            row(D1, "treatment", 30, 3, 2, "50.00", False),  # c, g
            row(D1, "control", 30, 3, 2, "35.00", False),
            row(D1, "global_control", 30, 2, 1, "60.00", False),
            # D2: j has joined control; f's and a's orders were before D2.
            row(D2, "treatment", 7, 3, 2, "50.00", False),  # c (D2 + 3), g (D2 + 4)
            row(D2, "control", 7, 4, 2, "15.00", False),  # i (10), j (5)
            row(D2, "global_control", 7, 2, 0, "0.00", False),
            row(D2, "treatment", 30, 3, 2, "50.00", False),
            row(D2, "control", 30, 4, 2, "15.00", False),
            row(D2, "global_control", 30, 2, 0, "0.00", False),
            # L: nothing after it is counted.
            row(L, "treatment", 7, 3, 0, "0.00", False),
            row(L, "control", 7, 4, 0, "0.00", False),
            row(L, "global_control", 7, 2, 0, "0.00", False),
            row(L, "treatment", 30, 3, 0, "0.00", False),
            row(L, "control", 30, 4, 0, "0.00", False),
            row(L, "global_control", 30, 2, 0, "0.00", False),
        ]
    )
    assert {key: value for key, value in got.items() if key[4] in (7, 30)} == expected
    assert {key[4] for key in got} == {7, 30, 90}
    assert all(not value[4] for key, value in got.items() if key[4] == 90)


def test_program_compares_every_emailable_customer_with_global_control(built: Path) -> None:
    got = outcomes(built, f"segment_family = 'program' and window_days = 7 and cohort_date = '{D1}'")
    emailable = [email for email in HAND if email[0] not in "ej"] + [f"p{n:03d}@plant.test" for n in range(PLANTED)]
    held = sum(1 for email in emailable if bucket(f"global:{cid(email)}") < 10)
    assert {key[3]: value[0] for key, value in got.items()} == {"global_control": held, "treatment": len(emailable) - held}
    comparisons = db(built).rows("select distinct comparison from marts.fct_segment_lift where segment_family = 'program'")
    assert comparisons == [("global",)]


def test_lift_matches_statsmodels_and_finds_the_planted_effect(built: Path) -> None:
    rows = db(built).rows(
        "select cohort_date, segment_family, segment, window_days, comparison, treatment_members, treatment_converters, "
        "control_members, control_converters, treatment_rate, control_rate, lift, ci_low, ci_high, p_value, is_mature "
        "from marts.fct_segment_lift"
    )
    checked = 0
    for *key, n1, x1, n0, x0, p1, p0, lift, low, high, p_value, mature in rows:
        assert mature == (key[0] + dt.timedelta(days=key[3]) <= L)
        if n1 == 0 or n0 == 0:
            assert (p1 if n1 == 0 else p0) is None and lift is None and low is None and high is None and p_value is None
            continue
        assert lift == pytest.approx(x1 / n1 - x0 / n0, abs=1e-12)
        if x1 + x0 in (0, n1 + n0):
            assert (low, high, p_value) == (lift, lift, 1.0)
            continue
        expected_low, expected_high = confint_proportions_2indep(x1, n1, x0, n0, method="wald", compare="diff")
        _, expected_p = proportions_ztest([x1, x0], [n1, n0])
        assert abs(low - expected_low) < 1e-6 and abs(high - expected_high) < 1e-6, key
        assert abs(p_value - expected_p) < 1e-6, (key, p_value, expected_p)
        checked += 1
    assert checked > 50

    planted = {
        row[0]: row[1:]
        for row in db(built).rows(
            "select comparison, treatment_members, treatment_converters, control_members, control_converters, ci_low, p_value, is_mature "
            f"from marts.fct_segment_lift where segment_family = 'region' and segment = 'europe' and cohort_date = '{D1}' and window_days = 7"
        )
    }
    for comparison, share in (("holdout", PLANTED_SHARE["control"]), ("global", PLANTED_SHARE["global_control"])):
        n1, x1, n0, x0, low, p_value, mature = planted[comparison]
        assert x1 == int(n1 * PLANTED_SHARE["treatment"]) and x0 == int(n0 * share)
        assert mature and low > 0 and p_value < 0.01, (comparison, planted[comparison])
    # D2's cohort came after the planted orders: no converter anywhere, pooled SE 0.
    assert db(built).rows(
        f"select distinct lift, ci_low, ci_high, p_value from marts.fct_segment_lift where segment_family = 'region' and segment = 'europe' and cohort_date = '{D2}'"
    ) == [(0.0, 0.0, 0.0, 1.0)]


def test_the_normal_tail_is_accurate_over_its_range(built: Path) -> None:
    zs = [index / 20 for index in range(0, 200)]
    sql = " union all ".join(f"select {z} as abs_z" for z in zs)
    result = dbt_in(
        built, built / "audience.duckdb",
        ["show", "--inline", f"select abs_z, {{{{ audience.normal_two_sided_p_value('abs_z') }}}} as p from ({sql}) as z", "--limit", "-1", "--output", "json"],
    )
    assert result.success, result.exception
    table = result.result.results[0].agate_table
    worst = max(abs(float(p) - math.erfc(float(z) / math.sqrt(2))) for z, p in table.rows)
    assert worst < 1e-7 and len(table.rows) == len(zs)


def test_outcomes_built_date_by_date_equal_a_full_rebuild_and_rerunning_changes_nothing(built: Path, tmp_path: Path) -> None:
    before = outcomes(built)
    assert all(value[5] == L for value in before.values())
    shutil.copy(built / "audience.duckdb", tmp_path / "audience.duckdb")
    build_date(tmp_path, L, "run", ["--select", "fct_segment_outcomes"])
    assert outcomes(tmp_path) == before
    build_date(tmp_path, L, "run", ["--select", "fct_segment_outcomes", "--full-refresh"])
    assert outcomes(tmp_path) == before


def test_a_backfill_of_an_earlier_date_keeps_later_measurements(built: Path, tmp_path: Path) -> None:
    shutil.copy(built / "audience.duckdb", tmp_path / "audience.duckdb")
    before = outcomes(tmp_path)
    build_date(tmp_path, D2, "run", ["--select", "path:models/intermediate", "path:models/marts"])
    assert outcomes(tmp_path) == before


def test_a_priority_list_has_one_row_per_customer_and_date_for_its_first_listed_segment(built: Path) -> None:
    history = db(built).rows(
        "select as_of_date, customer_id, segment_family || '.' || segment, holdout_group, is_global_control, is_emailable, "
        "is_sendable from marts.fct_segment_membership_history"
    )
    expected: dict[tuple, tuple] = {}
    for date, customer, entry, *flags in sorted(history, key=lambda row: LIST.index(row[2]) if row[2] in LIST else 99):
        if entry in LIST and (date, customer) not in expected:
            expected[(date, customer)] = (*entry.split("."), LIST.index(entry) + 1, *flags)
    rows = db(built).rows(
        "select as_of_date, customer_id, segment_family, segment, priority_rank, holdout_group, is_global_control, "
        "is_emailable, is_sendable from marts.fct_priority_list_members where list_name = 'rescue'"
    )
    got = {(row[0], row[1]): tuple(row[2:]) for row in rows}
    assert len(got) == len(rows), "one row per customer, list and date"
    assert got == expected
    assert {row[0] for row in rows} == {D1, D2, L} and {value[2] for value in got.values()} == {1, 2, 3}
    exported = db(built).rows("select customer_id, segment_family, segment from marts.fct_priority_list_exports")
    assert sorted(exported) == sorted((customer, family, segment) for (date, customer), (family, segment, _, _, _, _, sendable) in expected.items() if date == L and sendable)
    assert 0 < len(exported) < len([key for key in expected if key[0] == L])


@pytest.mark.parametrize(
    ("lists", "message"),
    [
        ([{"name": "rescue", "segments": ["nosuch.vip"]}], "entry 'nosuch.vip' must be 'family.segment'"),
        ([{"name": "rescue", "segments": ["behaviour.vip", "region.unknown", "behaviour.vip"]}], "entry 'behaviour.vip' is repeated"),
        ([{"name": "Rescue List", "segments": ["behaviour.vip"]}], "name must equal its slug ('rescue_list')"),
    ],
    ids=["unknown_family", "repeated_entry", "not_a_slug"],
)
def test_a_bad_priority_list_fails_compilation_naming_it(built: Path, tmp_path: Path, lists: list, message: str) -> None:
    variables = json.dumps({"as_of_date": L.isoformat(), **VARS, "priority_lists": lists})
    result = dbt_in(tmp_path, built / "audience.duckdb", ["compile", "--select", "fct_priority_list_members", "--vars", variables])
    assert not result.success
    assert message in str(result.exception) + " ".join(str(item.message) for item in (result.result or []))


def test_compliance_counts_sends_after_suppression_and_without_subscription_and_warns(built: Path, tmp_path: Path) -> None:
    assert db(built).rows(
        "select campaign_id, campaign_name, sends, sends_after_suppression, sends_never_subscribed, non_compliant_share "
        "from marts.fct_campaign_compliance"
    ) == [("c1", "June", 3, 1, 1, Decimal("0.6667"))]
    variables = json.dumps({"as_of_date": L.isoformat(), **VARS})
    result = dbt_in(tmp_path, built / "audience.duckdb", ["test", "--select", "fct_campaign_compliance", "--vars", variables])
    assert result.success, "a warning does not fail the build"
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    statuses = sorted(
        item["status"] for item in results if item["unique_id"].startswith("test.audience.expression_is_true_fct_campaign_compliance")
    )
    assert statuses == ["pass", "warn"], "the warn-level check fires; the error-level sanity check passes"


def test_changing_the_pcts_never_rewrites_past_dates_of_the_history(built: Path, tmp_path: Path) -> None:
    shutil.copy(built / "audience.duckdb", tmp_path / "audience.duckdb")
    kept = "select * from marts.fct_segment_membership_history where as_of_date = ? order by all"
    before = {date: db(tmp_path).rows(kept, [date]) for date in (D1, D2, L)}
    variables = json.dumps({"as_of_date": L.isoformat(), **VARS, "holdout_pct": 20, "global_holdout_pct": 40})
    result = dbt_in(tmp_path, tmp_path / "audience.duckdb", ["run", "--select", "path:models/intermediate", "path:models/marts", "--vars", variables])
    assert result.success, result.exception
    assert {date: db(tmp_path).rows(kept, [date]) for date in (D1, D2)} == {date: before[date] for date in (D1, D2)}
    after = db(tmp_path).rows(kept, [L])
    assert len(after) == len(before[L]) and after != before[L]
    assert sum(1 for row in after if row[6]) > sum(1 for row in before[L] if row[6]), "more global control on L only"


@pytest.mark.parametrize(
    ("as_of", "days_before", "mature"),
    [
        pytest.param(None, 7, False, id="ends-today-not-over"),
        pytest.param(None, 8, True, id="ended-yesterday"),
        pytest.param(dt.date(2026, 6, 30), 7, True, id="ends-on-a-past-as-of-date"),
        pytest.param(dt.date(2026, 6, 30), 6, False, id="ends-after-a-past-as-of-date"),
    ],
)
def test_a_window_is_mature_when_over_and_today_is_not_over(
    tmp_path: Path, as_of: dt.date | None, days_before: int, mature: bool
) -> None:
    """SPEC section 9: is_mature is D + N <= L, and D + N < L when L is today (None: today
    when the test runs, not when the module was collected)."""
    if as_of is None:
        as_of = dt.datetime.now(dt.timezone.utc).date()
    cohort = as_of - dt.timedelta(days=days_before)
    expression = f"{{{{ audience.outcome_window_is_mature(\"cast('{cohort}' as date)\", 7) }}}}"
    result = dbt_in(
        tmp_path, tmp_path / "empty.duckdb",
        ["show", "--inline", f"select {expression} as is_mature", "--vars", json.dumps({"as_of_date": as_of.isoformat()})],
    )  # fmt: skip
    assert result.success, result.exception
    assert result.result.results[0].agate_table.rows[0][0] is mature
