-- Predictive scores of buyers (SPEC section 11) from the fitted parameters: p_alive (the
-- BG/NBD closed form, rounded to 6 decimals), expected order days in the next 90 and 365
-- days (computed per (x, t_x, T) combination beside the fit), the Gamma-Gamma expected
-- value of an order day, the 365-day value, and the churn_risk segment. A model whose
-- fit failed leaves its outputs null; churn_risk is then unscored for every buyer.
{%- set high_below = audience.number_var('churn_risk_high_below') %}
{%- set medium_below = audience.number_var('churn_risk_medium_below') %}
{%- set double = audience.type_double() %}
with histories as (
    select * from {{ ref('int_customers_order_days_counted') }}
),

parameters as (
    select * from {{ ref('int_predictive_params_fitted') }}
    where is_converged
),

expectations as (
    select * from {{ ref('int_predictive_expectations_computed') }}
),

-- One row: each converged parameter, null when its model failed.
fitted as (
    select
        max(case when model = 'bg_nbd' and parameter = 'r' then value end) as r_value,
        max(case when model = 'bg_nbd' and parameter = 'alpha' then value end) as alpha_value,
        max(case when model = 'bg_nbd' and parameter = 'a' then value end) as a_value,
        max(case when model = 'bg_nbd' and parameter = 'b' then value end) as b_value,
        max(case when model = 'gamma_gamma' and parameter = 'p' then value end) as p_value,
        max(case when model = 'gamma_gamma' and parameter = 'q' then value end) as q_value,
        max(case when model = 'gamma_gamma' and parameter = 'gamma' then value end) as gamma_value
    from parameters
),

-- ln of the odds a buyer with x > 0 has dropped out:
-- ln(a / (b + x - 1)) + (r + x) * ln((alpha + T) / (alpha + t_x)).
odds as (
    select
        histories.customer_id,
        histories.repeat_order_days,
        histories.repeat_span_days,
        histories.customer_age_days,
        cast(histories.mean_repeat_order_day_value_usd as {{ double }}) as mean_value,
        fitted.*,
        case
            when histories.repeat_order_days > 0
                then
                    ln(fitted.a_value) - ln(fitted.b_value + histories.repeat_order_days - 1)
                    + (fitted.r_value + histories.repeat_order_days)
                    * (
                        ln(fitted.alpha_value + histories.customer_age_days)
                        - ln(fitted.alpha_value + histories.repeat_span_days)
                    )
        end as log_odds_dropped
    from histories
    cross join fitted
),

-- 1 / (1 + e^z) is below 2e-22 for z > 50, 0 at 6 decimals: the cap keeps exp finite
-- on every engine.
scored as (
    select
        odds.*,
        -- One cast around the case: PostgreSQL keeps the scale (6) only then.
        cast(
            case
                when odds.r_value is null then null
                when odds.repeat_order_days = 0 then 1
                else
                    round(cast(
                        1 / (1 + exp(least(odds.log_odds_dropped, 50))) as decimal(38, 12)
                    ), 6)
            end as decimal(7, 6)
        ) as p_alive,
        case
            when odds.repeat_order_days >= 1
                then
                    (odds.gamma_value + odds.mean_value * odds.repeat_order_days) * odds.p_value
                    / (odds.p_value * odds.repeat_order_days + odds.q_value - 1)
            else odds.p_value * odds.gamma_value / (odds.q_value - 1)
        end as expected_value
    from odds
),

predicted as (
    select
        scored.customer_id,
        case
            when scored.r_value is null then 'unscored'
            when scored.repeat_order_days = 0 then 'one_time'
            when scored.p_alive < {{ high_below }} then 'high'
            when scored.p_alive < {{ medium_below }} then 'medium'
            else 'low'
        end as churn_risk,
        scored.p_alive,
        cast(round(cast(expectations.expected_orders_90d as decimal(38, 12)), 6) as decimal(38, 6))
            as expected_orders_90d,
        cast(round(cast(expectations.expected_orders_365d as decimal(38, 12)), 6) as decimal(38, 6))
            as expected_orders_365d,
        cast(round(cast(scored.expected_value as decimal(38, 8)), 2) as decimal(38, 2))
            as expected_order_value_usd
    from scored
    left join expectations
        on
            scored.repeat_order_days = expectations.repeat_order_days
            and scored.repeat_span_days = expectations.repeat_span_days
            and scored.customer_age_days = expectations.customer_age_days
),

final as (
    select
        *,
        cast(round(expected_orders_365d * expected_order_value_usd, 2) as decimal(38, 2))
            as clv_365d_usd
    from predicted
)

select * from final
