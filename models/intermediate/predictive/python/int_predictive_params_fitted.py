"""BG/NBD and Gamma-Gamma fitted by maximum likelihood in the build (SPEC section 11):
one row per (model, parameter). The fit runs over the distinct (x, t_x, T) and (x, m)
combinations of int_customers_order_days_counted, weighted by their buyers
(audience.predictive). A fit that fails or has too few buyers gives null values and
is_converged false, with the reason; the warn-level test on predictive_model_params
reports it and the build goes on. Built on DuckDB only: other engines load the same
rows through audience.predictive.load_into_postgres (models/intermediate/predictive)."""

from audience import predictive


def model(dbt, session):
    dbt.config(materialized="table")
    histories = dbt.ref("int_customers_order_days_counted")
    bg_nbd_combos = histories.aggregate(
        "repeat_order_days, repeat_span_days, customer_age_days, count(*) as customers",
        "repeat_order_days, repeat_span_days, customer_age_days",
    ).df()
    gamma_gamma_combos = (
        histories.filter("repeat_order_days >= 1")
        .aggregate(
            "repeat_order_days, mean_repeat_order_day_value_usd, count(*) as customers",
            "repeat_order_days, mean_repeat_order_day_value_usd",
        )
        .df()
    )
    settings = {
        "min_bg_nbd_buyers": int(dbt.config.get("min_bg_nbd_buyers")),
        "min_gamma_gamma_buyers": int(dbt.config.get("min_gamma_gamma_buyers")),
        "max_iterations": int(dbt.config.get("max_iterations")),
    }
    return predictive.fit_models(bg_nbd_combos, gamma_gamma_combos, settings)
