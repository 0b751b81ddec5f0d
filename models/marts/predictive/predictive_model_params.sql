-- The fitted BG/NBD and Gamma-Gamma parameters of the as-of date (SPEC section 11), one
-- row per (model, parameter); value and log_likelihood null when the fit failed.
-- model, parameter and value are the names SPEC section 11 gives (keywords in some dialects).
with fitted as (
    select * from {{ ref('int_predictive_params_fitted') }}
),

final as (
    select
        {{ audience.as_of_date() }} as as_of_date,
        {{ dbt.cast('model', dbt.type_string()) }} as model,  -- noqa: RF04
        {{ dbt.cast('parameter', dbt.type_string()) }} as parameter,  -- noqa: RF04
        {{ dbt.cast('failure_reason', dbt.type_string()) }} as failure_reason,
        cast(value as {{ audience.type_double() }}) as value,  -- noqa: RF04
        cast(log_likelihood as {{ audience.type_double() }}) as log_likelihood,
        cast(n_customers as {{ dbt.type_int() }}) as n_customers,
        is_converged as converged
    from fitted
)

select * from final
