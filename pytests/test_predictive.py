"""SPEC section 11 on a simulated shop: the scores in dim_customers equal an independent
computation with the fitted parameters (the 2F1 of the BG/NBD expectation summed as its
power series, not by scipy.special.hyp2f1 after Euler's transformation as the build does),
including the edges (x = 0, a large x, T = t_x, a first order on the as-of date); a fit
with too few buyers or without convergence leaves the scores null, churn_risk
'unscored' and a warning, and the build passes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import optimize

from audience import predictive
from conftest import Db, Rows, build, dbt_in

AS_OF = dt.date(2026, 6, 30)
BUYERS = 160
#: Edge customers: (email, days before AS_OF of each order day).
EDGES = {
    "large_x@x.com": list(range(0, 600, 10)),  # 60 order days, the last on the as-of date
    "t_equals_t_x@x.com": [200, 120, 0],  # x = 2, last order on the as-of date: T = t_x
    "first_today@x.com": [0],  # x = 0, T = 0
    "one_time@x.com": [300],  # x = 0
    "silent@x.com": [700, 690, 680, 670],  # x = 3, nothing for 670 days
}


def order(number: int, email: str, days_ago: int, amount: float) -> dict[str, Any]:
    ordered_at = dt.datetime.combine(AS_OF - dt.timedelta(days=days_ago), dt.time(9))
    return {
        "order_id": f"o{number}",
        "email": email,
        "status": "completed",
        "currency": "USD",
        "total_amount": Decimal(f"{amount:.2f}"),
        "discount_amount": Decimal(0),
        "ordered_at": ordered_at,
        "updated_at": ordered_at,
        "_loaded_at": ordered_at + dt.timedelta(hours=1),
    }


def simulated_raw() -> Rows:
    """Buyers who buy at a Poisson rate (gamma across buyers) and, after any order day,
    drop out with a probability (beta across buyers): the BG/NBD story, with values drawn
    from a gamma per buyer; plus the edge customers. Two orders on one day are one order
    day."""
    rng = random.Random(11)
    orders: list[dict[str, Any]] = []
    for buyer in range(BUYERS):
        rate, dropout = rng.gammavariate(0.8, 1 / 25), rng.betavariate(1.2, 4)
        mean_value = rng.gammavariate(4, 15)
        day = rng.randrange(0, 720)
        while day >= 0:
            orders.append(order(len(orders), f"b{buyer}@x.com", day, rng.gammavariate(6, mean_value / 6)))
            if rng.random() < 0.1:  # a second order the same day
                orders.append(order(len(orders), f"b{buyer}@x.com", day, 5))
            if rng.random() < dropout:
                break
            day -= max(1, round(rng.expovariate(rate)))
    for email, days in EDGES.items():
        for days_ago in days:
            orders.append(order(len(orders), email, days_ago, 40 + days_ago % 7))
    return {"shop_orders": orders}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("predictive"), simulated_raw(), AS_OF.isoformat())


def hyp2f1_series(a: float, b: float, c: float, z: float) -> float:
    """Gauss's hypergeometric series, summed term by term until the terms vanish."""
    term, terms, n = 1.0, [1.0], 0
    while abs(term) > 1e-17 * abs(math.fsum(terms)) or n < 10:
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        terms.append(term)
        n += 1
    return math.fsum(terms)


def reference(params: dict[str, float], x: int, t_x: int, big_t: int, horizon: int) -> tuple[float, float]:
    """p_alive and the expected order days in ``horizon`` days, FHL 2005 equations as printed."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    odds = a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    p_alive = 1 / (1 + odds)
    z = horizon / (alpha + big_t + horizon)
    bracket = 1 - ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x) * hyp2f1_series(
        r + x, b + x, a + b + x - 1, z
    )
    return p_alive, (a + b + x - 1) / (a - 1) * bracket * p_alive


def fitted(db: Db) -> dict[str, float]:
    return dict(db.rows("select parameter, value from marts.predictive_model_params where converged"))


def scores(db: Db) -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in db.rows(
            """select customers.email, histories.repeat_order_days, histories.repeat_span_days,
                      histories.customer_age_days, histories.mean_repeat_order_day_value_usd,
                      customers.p_alive, customers.expected_orders_90d, customers.expected_orders_365d,
                      customers.expected_order_value_usd, customers.clv_365d_usd, customers.churn_risk
               from marts.dim_customers as customers
               left join intermediate.int_customers_order_days_counted as histories
                   on customers.customer_id = histories.customer_id"""
        )
    }


def test_scores_equal_an_independent_computation(built: Path) -> None:
    db = Db(built)
    params = fitted(db)
    assert len(params) == 7, "both fits converge on the simulated shop"
    customers = scores(db)
    assert len(customers) == BUYERS + len(EDGES)
    for email, (x, t_x, big_t, m, p_alive, in_90, in_365, value, clv, risk) in customers.items():
        p_expected, expected_90 = reference(params, x, t_x, big_t, 90)
        _, expected_365 = reference(params, x, t_x, big_t, 365)
        assert float(p_alive) == pytest.approx(p_expected, abs=1e-6), email
        assert float(in_90) == pytest.approx(expected_90, abs=1e-6), email
        assert float(in_365) == pytest.approx(expected_365, abs=1e-6), email
        p, q, gamma = params["p"], params["q"], params["gamma"]
        mean = (gamma + float(m) * x) * p / (p * x + q - 1) if x >= 1 else p * gamma / (q - 1)
        assert float(value) == pytest.approx(mean, abs=0.005), email
        assert clv == (in_365 * value).quantize(Decimal("0.01")), email
        expected_risk = (
            "one_time"
            if x == 0
            else "high"
            if p_alive < Decimal("0.3")
            else "medium"
            if p_alive < Decimal("0.7")
            else "low"
        )
        assert risk == expected_risk, email


def test_the_edges_are_where_they_should_be(built: Path) -> None:
    customers = scores(Db(built))
    params = fitted(Db(built))
    large = customers["large_x@x.com"]
    assert large[:3] == (59, 590, 590) and large[9] == "low"
    x, t_x, big_t = customers["t_equals_t_x@x.com"][:3]
    assert (x, t_x, big_t) == (2, 200, 200)
    assert float(customers["t_equals_t_x@x.com"][4]) == pytest.approx(
        1 / (1 + params["a"] / (params["b"] + 1)), abs=1e-6
    )
    assert customers["first_today@x.com"][:5] == (0, 0, 0, None, Decimal("1.000000"))
    assert customers["first_today@x.com"][9] == "one_time"
    assert customers["one_time@x.com"][4] == Decimal("1.000000")
    assert customers["silent@x.com"][9] == "high"


def rebuild(built: Path, workdir: Path, variables: dict[str, Any]) -> tuple[Db, list[Any]]:
    """The predictive models and what reads them again, on a copy, with other vars."""
    workdir.mkdir()
    database = workdir / "audience.duckdb"
    shutil.copy(built, database)
    result = dbt_in(
        workdir,
        database,
        [
            "build",
            "--select",
            "int_predictive_params_fitted+",
            "--vars",
            json.dumps({"as_of_date": AS_OF.isoformat(), **variables}),
        ],
    )
    assert result.success, f"the build failed; logs in {workdir / 'logs'}"
    return Db(database), result.result.results


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"predictive_min_bg_nbd_buyers": 1000, "predictive_min_gamma_gamma_buyers": 1000}, "too few customers to fit"),
        ({"predictive_max_iterations": 1}, "the optimiser did not converge"),
    ],
    ids=["too_few_buyers", "no_convergence"],
)
def test_a_failed_fit_leaves_scores_null_and_warns(
    built: Path, tmp_path: Path, variables: dict[str, Any], reason: str
) -> None:
    db, results = rebuild(built, tmp_path / "failed", variables)
    rows = db.rows("select model, value, log_likelihood, converged, failure_reason from marts.predictive_model_params")
    assert len(rows) == 7
    assert all(
        value is None and ll is None and not converged and failure.startswith(reason)
        for _, value, ll, converged, failure in rows
    )
    customers = scores(db)
    assert {row[9] for row in customers.values()} == {"unscored"}
    assert all(row[4:9] == (None,) * 5 for row in customers.values())
    assert db.rows(
        "select segment, count(*) from marts.fct_segment_memberships where segment_family = 'churn_risk' group by segment"
    ) == [("unscored", len(customers))]
    warned = {result.node.name: result.status for result in results if result.node.name == "predictive_fit_converged"}
    assert warned == {"predictive_fit_converged": "warn"}


def simulated_combos(seed: int, buyers: int) -> dict[str, np.ndarray]:
    """Distinct (x, t_x, T) combinations with buyer counts and a mean value per buyer with
    x >= 1, drawn from the BG/NBD and Gamma-Gamma stories with numpy (no dbt)."""
    rng = np.random.default_rng(seed)
    big_t = rng.integers(0, 400, buyers).astype(float)
    rate, dropout = rng.gamma(0.5, 1 / 20, buyers), rng.beta(1.5, 6, buyers)
    x, t_x = np.zeros(buyers), np.zeros(buyers)
    for buyer in range(buyers):
        day = 0.0
        while rng.random() >= dropout[buyer] or day == 0.0:
            day += rng.exponential(1 / rate[buyer])
            if day > big_t[buyer]:
                break
            x[buyer], t_x[buyer] = x[buyer] + 1, math.floor(day)
    combos, counts = np.unique(np.stack([x, t_x, big_t]), axis=1, return_counts=True)
    m = np.round(rng.gamma(6.0, rng.gamma(3.0, 20.0, buyers) / 6.0), 2)[x >= 1]
    return {
        "x": combos[0],
        "t_x": combos[1],
        "big_t": combos[2],
        "weights": counts.astype(float),
        "gg_x": x[x >= 1],
        "m": m,
    }


def test_the_objectives_equal_the_plain_likelihoods_and_their_gradients() -> None:
    """The per-distinct-x evaluation equals the plain per-customer log-likelihood, and its
    analytic gradient equals a central finite difference, at several parameter points."""
    data = simulated_combos(3, 3000)
    bg_nbd = predictive.BgNbdObjective(data["x"], data["t_x"], data["big_t"], data["weights"])
    for point in ([0.2, 30.0, 0.8, 2.4], [1.0, 5.0, 3.0, 0.5], [4.0, 200.0, 0.2, 9.0]):
        params = np.array(point)
        value, gradient = bg_nbd(np.log(params))
        plain = predictive.bg_nbd_log_likelihood(params, data["x"], data["t_x"], data["big_t"])
        assert value == pytest.approx(np.average(plain, weights=data["weights"]), rel=1e-12)
        numeric = [
            (bg_nbd(np.log(params) + step)[0] - bg_nbd(np.log(params) - step)[0]) / 2e-6 for step in np.eye(4) * 1e-6
        ]
        assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-8)
    weights = np.ones_like(data["m"])
    gamma_gamma = predictive.GammaGammaObjective(data["gg_x"], data["m"], weights)
    for point in ([6.0, 3.7, 15.0], [1.0, 1.5, 80.0], [20.0, 9.0, 2.0]):
        params = np.array(point)
        value, gradient = gamma_gamma(np.log(params))
        plain = predictive.gamma_gamma_log_likelihood(params, data["gg_x"], data["m"])
        assert value == pytest.approx(plain.mean(), rel=1e-12)
        numeric = [
            (gamma_gamma(np.log(params) + step)[0] - gamma_gamma(np.log(params) - step)[0]) / 2e-6
            for step in np.eye(3) * 1e-6
        ]
        assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_the_fit_finds_the_maximum_another_optimiser_finds() -> None:
    """L-BFGS-B with the analytic gradient reaches the maximum scipy's Nelder-Mead reaches
    on the plain likelihoods, from another start."""
    data = simulated_combos(5, 3000)
    fit = predictive.fit_bg_nbd(data["x"], data["t_x"], data["big_t"], data["weights"], 100, 10000)
    assert fit.converged, fit.failure_reason

    def negative_bg_nbd(log_params: np.ndarray) -> float:
        plain = predictive.bg_nbd_log_likelihood(np.exp(log_params), data["x"], data["t_x"], data["big_t"])
        return -float(np.dot(data["weights"], plain))

    options = {"xatol": 1e-10, "fatol": 1e-10, "maxiter": 40000, "maxfev": 40000}
    other = optimize.minimize(negative_bg_nbd, np.log([0.5, 10.0, 0.5, 0.5]), method="Nelder-Mead", options=options)
    assert other.success
    assert list(fit.parameters.values()) == pytest.approx(np.exp(other.x), rel=1e-4)
    assert fit.log_likelihood == pytest.approx(-other.fun, rel=1e-9)

    weights = np.ones_like(data["m"])
    fit = predictive.fit_gamma_gamma(data["gg_x"], data["m"], weights, 10, 10000)
    assert fit.converged, fit.failure_reason

    def negative_gamma_gamma(log_params: np.ndarray) -> float:
        return -float(predictive.gamma_gamma_log_likelihood(np.exp(log_params), data["gg_x"], data["m"]).sum())

    other = optimize.minimize(negative_gamma_gamma, np.log([2.0, 5.0, 30.0]), method="Nelder-Mead", options=options)
    assert other.success
    assert list(fit.parameters.values()) == pytest.approx(np.exp(other.x), rel=1e-4)
    assert fit.log_likelihood == pytest.approx(-other.fun, rel=1e-9)


def test_a_fit_whose_expectations_overflow_is_not_converged() -> None:
    """130 buyers a few days old, one of them with a repeat order day (the measurement
    suite's shop on its first dates): the likelihood is too flat to identify (a, b), the
    optimiser ends at a huge a, and the 2F1 of the expectation overflows. That fit counts
    as not converged (scores null, the warning), not as converged with null expectations."""
    x, t_x, big_t, weights = (np.array(column, dtype=float) for column in zip((0, 0, 1, 1), (0, 0, 2, 127), (0, 0, 4, 1), (1, 1, 3, 1), strict=True))
    fit = predictive.fit_bg_nbd(x, t_x, big_t, weights, 100, 10000)
    assert not fit.converged and fit.parameters == {}
    assert fit.failure_reason == "the expected order days are not finite at the fitted parameters"
