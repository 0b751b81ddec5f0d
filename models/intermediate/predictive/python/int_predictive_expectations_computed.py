"""BG/NBD expected order days in the next 90 and 365 days, one row per distinct
(x, t_x, T) combination of the buyers (SPEC section 11), from the fitted parameters:
the conditional expectation needs the Gauss hypergeometric function 2F1, which SQL
engines lack (scipy.special.hyp2f1, audience.predictive.expected_order_days). No rows
when the BG/NBD fit failed. Built on DuckDB only, like int_predictive_params_fitted."""

from audience import predictive


def model(dbt, session):
    dbt.config(materialized="table")
    combos = (
        dbt.ref("int_customers_order_days_counted")
        .aggregate(
            "repeat_order_days, repeat_span_days, customer_age_days",
            "repeat_order_days, repeat_span_days, customer_age_days",
        )
        .df()
    )
    parameters = dbt.ref("int_predictive_params_fitted").df()
    return predictive.expectations(combos, parameters)
