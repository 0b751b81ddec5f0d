"""The predictive models of SPEC section 11, fitted by maximum likelihood: BG/NBD (Fader,
Hardie & Lee 2005, "Counting your customers the easy way") on each buyer's repeat order
days x, the days t_x from the first to the last order day and the days T from the first
order day to the as-of date; Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV") on the
mean value m of the repeat order days of buyers with x >= 1. Time is in days.

The dbt Python models of models/intermediate/predictive call ``fit_models`` and
``expectations`` on the distinct (x, t_x, T) and (x, m) combinations of the build,
weighted by how many buyers share each, so the cost follows the combinations, not the
buyers. On engines where dbt runs no Python (PostgreSQL) ``load_into_postgres`` does the
same from the built intermediate tables and loads the results the SQL models read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

if TYPE_CHECKING:
    import pandas as pd

#: A fitted parameter must stay inside these bounds (SPEC section 11); one that leaves
#: them makes the fit "not converged".
LOWER_BOUND = 1e-6
UPPER_BOUND = 1e6
#: The forecast horizons of dim_customers (expected_orders_90d, expected_orders_365d).
HORIZONS_DAYS = (90, 365)
#: The optimiser (L-BFGS-B on the logs of the parameters, with the analytic gradient of
#: the mean log-likelihood per buyer) stops when the mean log-likelihood improves by less
#: than F_TOLERANCE (relative) or every component of its gradient is below G_TOLERANCE.
F_TOLERANCE = 1e-14
G_TOLERANCE = 1e-9
#: The logs of the parameters are searched in [ln 1e-8, ln 1e8], wider than the bounds a
#: converged fit must respect, so a fit pushed to the edge is reported, not clipped.
SEARCH_BOUND = np.log(1e8)

BG_NBD = ("r", "alpha", "a", "b")
GAMMA_GAMMA = ("p", "q", "gamma")

Array = NDArray[np.float64]


@dataclass
class Fit:
    """One model's maximum-likelihood fit; ``parameters`` is empty when it failed."""

    model: str
    n_customers: int
    converged: bool = False
    parameters: dict[str, float] = field(default_factory=dict)
    log_likelihood: float | None = None
    failure_reason: str | None = None


def bg_nbd_log_likelihood(params: Array, x: Array, t_x: Array, big_t: Array) -> Array:
    """Each customer's full BG/NBD log-likelihood (FHL 2005, equation 6), no constant
    dropped: ln[B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))]."""
    r, alpha, a, b = params
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
    still_alive = special.betaln(a, b + x) - (r + x) * np.log(alpha + big_t)
    repeat = x > 0
    dropped = np.full_like(x, -np.inf)
    dropped[repeat] = special.betaln(a + 1, b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    return common + np.logaddexp(still_alive, dropped)


def gamma_gamma_log_likelihood(params: Array, x: Array, m: Array) -> Array:
    """Each customer's full Gamma-Gamma log-likelihood of the mean m of x >= 1 values
    (FHL 2005, "RFM and CLV"): the density of m is
    Γ(px+q) / (Γ(px) Γ(q)) · γ^q · x^(px) · m^(px-1) / (γ + m x)^(px+q)."""
    p, q, gamma = params
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(gamma)
        + px * np.log(x)
        + (px - 1) * np.log(m)
        - (px + q) * np.log(gamma + m * x)
    )


def _distinct(values: Array) -> tuple[Array, NDArray[np.intp]]:
    """The distinct values and, per element, the index of its value among them."""
    distinct, index = np.unique(values, return_inverse=True)
    return distinct, index.reshape(-1)


class BgNbdObjective:
    """The weighted mean BG/NBD log-likelihood per buyer and its gradient with respect to
    ln(r, alpha, a, b). The gamma and beta functions depend on a buyer only through x, so
    they are evaluated once per distinct x (a few hundred values however many buyers);
    only logs and sums run per combination.

    With C = ln Γ(r+x) - ln Γ(r) + r ln α - ln B(a, b), A = ln B(a, b+x) - (r+x) ln(α+T),
    D = ln B(a+1, b+x-1) - (r+x) ln(α+t_x) (x > 0) the log-likelihood is C + ln(e^A + e^D)
    and its derivative is C' + s A' + (1-s) D' with s = e^A / (e^A + e^D)."""

    def __init__(self, x: Array, t_x: Array, big_t: Array, weights: Array) -> None:
        self.x, self.t_x, self.big_t = x, t_x, big_t
        self.weights = weights / weights.sum()
        self.distinct_x, self.x_index = _distinct(x)
        self.repeat = x > 0

    def __call__(self, log_params: Array) -> tuple[float, Array]:
        r, alpha, a, b = np.exp(log_params)
        ux, i, w, x = self.distinct_x, self.x_index, self.weights, self.x
        # Per distinct x; b + x - 1 is 0 at x = 0 (the dropped-out term is absent there).
        beta_alive = special.betaln(a, b + ux)
        beta_dropped = special.betaln(a + 1, b + np.maximum(ux - 1, 0) + (ux == 0))
        digamma_abx = special.digamma(a + b + ux)
        log_alpha_t, log_alpha_tx = np.log(alpha + self.big_t), np.log(alpha + self.t_x)
        still_alive = beta_alive[i] - (r + x) * log_alpha_t
        dropped = np.where(self.repeat, beta_dropped[i] - (r + x) * log_alpha_tx, -np.inf)
        mix = np.logaddexp(still_alive, dropped)
        share_alive = np.exp(still_alive - mix)
        share_dropped = 1.0 - share_alive
        common_x = special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
        value = float(np.dot(w, common_x[i] + mix))
        digamma_ab = special.digamma(a + b)
        d_r = np.dot(w, (special.digamma(r + ux) - special.digamma(r))[i] + np.log(alpha))
        d_r -= np.dot(w, share_alive * log_alpha_t + share_dropped * np.where(self.repeat, log_alpha_tx, 0.0))
        d_alpha = r / alpha - np.dot(
            w, (r + x) * (share_alive / (alpha + self.big_t) + share_dropped / (alpha + self.t_x))
        )
        d_a = -(special.digamma(a) - digamma_ab) + np.dot(
            w,
            share_alive * (special.digamma(a) - digamma_abx[i])
            + share_dropped * (special.digamma(a + 1) - digamma_abx[i]),
        )
        d_b_dropped = special.digamma(b + np.maximum(ux - 1, 0) + (ux == 0))
        d_b = -(special.digamma(b) - digamma_ab) + np.dot(
            w, share_alive * (special.digamma(b + ux) - digamma_abx)[i] + share_dropped * (d_b_dropped - digamma_abx)[i]
        )
        gradient = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return value, gradient


class GammaGammaObjective:
    """The weighted mean Gamma-Gamma log-likelihood per buyer and its gradient with
    respect to ln(p, q, gamma); the gamma functions run once per distinct x."""

    def __init__(self, x: Array, m: Array, weights: Array) -> None:
        self.x, self.log_m, self.m = x, np.log(m), m
        self.weights = weights / weights.sum()
        self.distinct_x, self.x_index = _distinct(x)

    def __call__(self, log_params: Array) -> tuple[float, Array]:
        p, q, gamma = np.exp(log_params)
        ux, i, w, x = self.distinct_x, self.x_index, self.weights, self.x
        pux = p * ux
        per_x = special.gammaln(pux + q) - special.gammaln(pux) - special.gammaln(q) + pux * np.log(ux)
        log_gamma_mx = np.log(gamma + self.m * x)
        value = float(np.dot(w, per_x[i] + (p * x - 1) * self.log_m - (p * x + q) * log_gamma_mx)) + q * np.log(gamma)
        digamma_pxq = special.digamma(pux + q)
        d_p = np.dot(w, x * ((digamma_pxq - special.digamma(pux) + np.log(ux))[i] + self.log_m - log_gamma_mx))
        d_q = np.dot(w, digamma_pxq[i] - log_gamma_mx) - special.digamma(q) + np.log(gamma)
        d_gamma = q / gamma - np.dot(w, (p * x + q) / (gamma + self.m * x))
        return value, np.array([d_p * p, d_q * q, d_gamma * gamma])


def _fit(
    model: str,
    names: tuple[str, ...],
    objective: Any,
    start: Array,
    weights: Array,
    min_customers: int,
    max_iterations: int,
    extra_check: Any = None,
) -> Fit:
    """Maximise the weighted mean log-likelihood over ln(parameters) with L-BFGS-B and the
    analytic gradient; the fit converges when the optimiser says so and every parameter
    is inside the bounds (and ``extra_check`` returns no reason). The log-likelihood
    reported is the total over the buyers."""
    n_customers = int(weights.sum())
    fit = Fit(model=model, n_customers=n_customers)
    if n_customers < min_customers:
        fit.failure_reason = f"too few customers to fit: {n_customers} < {min_customers}"
        return fit

    def negative(log_params: Array) -> tuple[float, Array]:
        with np.errstate(all="ignore"):
            value, gradient = objective(log_params)
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            return np.inf, np.zeros_like(log_params)
        return -value, -gradient

    result = optimize.minimize(
        negative,
        np.log(start),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-SEARCH_BOUND, SEARCH_BOUND)] * len(names),
        options={"maxiter": max_iterations, "maxfun": 4 * max_iterations, "ftol": F_TOLERANCE, "gtol": G_TOLERANCE},
    )
    values = np.exp(result.x)
    if not result.success or not np.isfinite(result.fun):
        fit.failure_reason = f"the optimiser did not converge: {result.message}"
    elif np.any(values < LOWER_BOUND) or np.any(values > UPPER_BOUND):
        fit.failure_reason = f"a parameter left [{LOWER_BOUND:g}, {UPPER_BOUND:g}]"
    elif extra_check is not None and (reason := extra_check(values)):
        fit.failure_reason = reason
    else:
        fit.converged = True
        fit.parameters = dict(zip(names, (float(v) for v in values), strict=True))
        fit.log_likelihood = -float(result.fun) * n_customers
    return fit


def fit_bg_nbd(x: Array, t_x: Array, big_t: Array, weights: Array, min_customers: int, max_iterations: int) -> Fit:
    """BG/NBD over the distinct (x, t_x, T) combinations, each weighted by its buyers."""
    start = np.array([1.0, max(float(np.average(big_t, weights=weights)) if len(big_t) else 1.0, 1.0), 1.0, 1.0])
    objective = BgNbdObjective(x, t_x, big_t, weights) if len(x) else None

    def expectations_finite(values: Array) -> str | None:
        # A likelihood too flat to identify the parameters (say, every buyer a few days
        # old) can end at values where the expectation overflows: not a usable fit.
        parameters = dict(zip(BG_NBD, (float(v) for v in values), strict=True))
        with np.errstate(all="ignore"):
            finite = all(
                np.all(np.isfinite(expected_order_days(parameters, x, t_x, big_t, horizon)))
                for horizon in HORIZONS_DAYS
            )
        return None if finite else "the expected order days are not finite at the fitted parameters"

    return _fit(
        "bg_nbd", BG_NBD, objective, start, weights, min_customers, max_iterations, extra_check=expectations_finite
    )


def fit_gamma_gamma(x: Array, m: Array, weights: Array, min_customers: int, max_iterations: int) -> Fit:
    """Gamma-Gamma over the distinct (x, m) combinations of buyers with x >= 1."""
    start = np.array([1.0, 2.0, max(float(np.average(m, weights=weights)) if len(m) else 1.0, 1.0)])
    return _fit(
        "gamma_gamma",
        GAMMA_GAMMA,
        GammaGammaObjective(x, m, weights) if len(x) else None,
        start,
        weights,
        min_customers,
        max_iterations,
        extra_check=lambda values: "q <= 1: the expected value has no finite mean" if values[1] <= 1 else None,
    )


def expected_order_days(parameters: dict[str, float], x: Array, t_x: Array, big_t: Array, horizon: float) -> Array:
    """BG/NBD conditional expectation of order days in the next ``horizon`` days (FHL
    2005, equation 10):

        (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; z)]
        / (1 + [x > 0] · a/(b+x-1) · ((α+T)/(α+t_x))^(r+x)),   z = t/(α+T+t).

    Euler's transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns the
    bracket into 1 - (1-z)^(a-1) · 2F1(a+b-1-r, a-1; a+b+x-1; z): no power of order x
    and a series whose terms fall at once for large x, evaluated by scipy.special.hyp2f1
    (accuracy: pytests/test_predictive.py compares it with the plain power series).
    """
    r, alpha, a, b = (parameters[name] for name in BG_NBD)
    z = horizon / (alpha + big_t + horizon)
    bracket = 1.0 - (1.0 - z) ** (a - 1.0) * special.hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    log_odds_dropped = np.where(
        x > 0,
        np.log(a)
        - np.log(np.maximum(b + x - 1.0, np.finfo(float).tiny))
        + (r + x) * np.log((alpha + big_t) / (alpha + t_x)),
        -np.inf,
    )
    return (a + b + x - 1.0) / (a - 1.0) * bracket * special.expit(-log_odds_dropped)


def parameter_rows(fits: list[Fit]) -> list[dict[str, Any]]:
    """One row per (model, parameter): value and log-likelihood null when the fit failed."""
    rows = []
    for fit in fits:
        for name in BG_NBD if fit.model == "bg_nbd" else GAMMA_GAMMA:
            rows.append(
                {
                    "model": fit.model,
                    "parameter": name,
                    "value": fit.parameters.get(name),
                    "log_likelihood": fit.log_likelihood,
                    "n_customers": fit.n_customers,
                    "is_converged": fit.converged,
                    "failure_reason": fit.failure_reason,
                }
            )
    return rows


def fit_models(bg_nbd_combos: pd.DataFrame, gamma_gamma_combos: pd.DataFrame, settings: dict[str, int]) -> pd.DataFrame:
    """Both fits as parameter rows. ``bg_nbd_combos``: repeat_order_days,
    repeat_span_days, customer_age_days, customers; ``gamma_gamma_combos``:
    repeat_order_days, mean_repeat_order_day_value_usd, customers; ``settings``: the
    min_bg_nbd_buyers, min_gamma_gamma_buyers and max_iterations vars."""
    import pandas as pd

    def column(frame: pd.DataFrame, name: str) -> Array:
        return frame[name].to_numpy(dtype=float)

    # In one order whatever the engine returned: the same combinations give the same
    # optimiser path, hence the same parameters to the last digit, on every engine.
    bg_nbd_combos = bg_nbd_combos.sort_values(["repeat_order_days", "repeat_span_days", "customer_age_days"])
    gamma_gamma_combos = gamma_gamma_combos.sort_values(["repeat_order_days", "mean_repeat_order_day_value_usd"])

    bg_nbd = fit_bg_nbd(
        column(bg_nbd_combos, "repeat_order_days"),
        column(bg_nbd_combos, "repeat_span_days"),
        column(bg_nbd_combos, "customer_age_days"),
        column(bg_nbd_combos, "customers"),
        settings["min_bg_nbd_buyers"],
        settings["max_iterations"],
    )
    gamma_gamma = fit_gamma_gamma(
        column(gamma_gamma_combos, "repeat_order_days"),
        column(gamma_gamma_combos, "mean_repeat_order_day_value_usd"),
        column(gamma_gamma_combos, "customers"),
        settings["min_gamma_gamma_buyers"],
        settings["max_iterations"],
    )
    frame = pd.DataFrame(parameter_rows([bg_nbd, gamma_gamma]))
    return frame.astype(
        {"value": "Float64", "log_likelihood": "Float64", "n_customers": "Int64", "is_converged": "boolean",
         "failure_reason": "string"}
    )  # fmt: skip


def expectations(combos: pd.DataFrame, parameters: pd.DataFrame) -> pd.DataFrame:
    """Expected order days in the next 90 and 365 days per distinct (x, t_x, T)
    combination, from the BG/NBD parameter rows; no rows when that fit failed."""
    import pandas as pd

    bg_nbd = parameters[(parameters["model"] == "bg_nbd") & parameters["is_converged"].astype(bool)]
    frame = combos[["repeat_order_days", "repeat_span_days", "customer_age_days"]].copy()
    if len(bg_nbd) != len(BG_NBD):
        frame = frame.iloc[0:0]
    values = dict(zip(bg_nbd["parameter"], bg_nbd["value"].astype(float), strict=True))
    x, t_x, big_t = (frame[name].to_numpy(dtype=float) for name in frame.columns)
    for horizon in HORIZONS_DAYS:
        frame[f"expected_orders_{horizon}d"] = (
            pd.Series(expected_order_days(values, x, t_x, big_t, horizon), index=frame.index, dtype="Float64")
            if len(frame)
            else pd.Series([], dtype="Float64")
        )
    return frame.astype({"repeat_order_days": "Int64", "repeat_span_days": "Int64", "customer_age_days": "Int64"})


#: Where the tooling loads the fit's results on engines where dbt runs no Python; the SQL
#: models int_predictive_params_fitted and int_predictive_expectations_computed read them.
LOADED_SCHEMA = "predictive_loaded"


def settings(dbt_vars: dict[str, Any]) -> dict[str, int]:
    """The fit's settings from the project's vars (as the Python model's config reads them)."""
    return {
        "min_bg_nbd_buyers": int(dbt_vars["predictive_min_bg_nbd_buyers"]),
        "min_gamma_gamma_buyers": int(dbt_vars["predictive_min_gamma_gamma_buyers"]),
        "max_iterations": int(dbt_vars["predictive_max_iterations"]),
    }


def load_into_postgres(conn: Any, as_of_date: str, settings: dict[str, int]) -> pd.DataFrame:
    """Fit both models on the order-day summary a dbt build left in
    intermediate.int_customers_order_days_counted (as of ``as_of_date``), compute the
    expectations, and replace that date's rows of predictive_loaded.model_params and
    predictive_loaded.expectations in one transaction. Returns the parameter rows."""
    import pandas as pd

    def frame(sql: str, columns: list[str]) -> pd.DataFrame:
        with conn.cursor() as cur:
            cur.execute(sql)
            return pd.DataFrame(cur.fetchall(), columns=columns)

    source = "intermediate.int_customers_order_days_counted"
    combo = "repeat_order_days, repeat_span_days, customer_age_days"
    bg_nbd_combos = frame(f"select {combo}, count(*) from {source} group by {combo}", [*combo.split(", "), "customers"])
    gamma_gamma_combos = frame(
        f"select repeat_order_days, mean_repeat_order_day_value_usd, count(*) from {source} "
        "where repeat_order_days >= 1 group by repeat_order_days, mean_repeat_order_day_value_usd",
        ["repeat_order_days", "mean_repeat_order_day_value_usd", "customers"],
    )
    parameters = fit_models(bg_nbd_combos, gamma_gamma_combos, settings)
    expected = expectations(bg_nbd_combos, parameters)

    def values(row: pd.Series) -> list[Any]:
        return [None if pd.isna(value) else value.item() if hasattr(value, "item") else value for value in row]

    with conn.cursor() as cur:
        cur.execute(f"create schema if not exists {LOADED_SCHEMA}")
        cur.execute(
            f"create table if not exists {LOADED_SCHEMA}.model_params (as_of_date date, model varchar, "
            "parameter varchar, value double precision, log_likelihood double precision, n_customers integer, "
            "is_converged boolean, failure_reason varchar)"
        )
        cur.execute(
            f"create table if not exists {LOADED_SCHEMA}.expectations (as_of_date date, repeat_order_days integer, "
            "repeat_span_days integer, customer_age_days integer, expected_orders_90d double precision, "
            "expected_orders_365d double precision)"
        )
        for table, rows in (("model_params", parameters), ("expectations", expected)):
            cur.execute(f"delete from {LOADED_SCHEMA}.{table} where as_of_date = %s", [as_of_date])
            placeholders = ", ".join(["%s"] * (len(rows.columns) + 1))
            cur.executemany(
                f"insert into {LOADED_SCHEMA}.{table} values ({placeholders})",
                [[as_of_date, *values(row)] for _, row in rows.iterrows()],
            )
    conn.commit()
    return parameters
