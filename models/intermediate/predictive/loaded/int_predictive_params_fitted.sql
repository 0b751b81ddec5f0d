-- On engines where dbt runs no Python (PostgreSQL): the parameter rows the Python model of
-- the same name fits on DuckDB, as loaded for the as-of date by the tooling
-- (audience.predictive.load_into_postgres, called by `python -m audience run --target
-- postgres` between building the order-day summary and the rest) into
-- predictive_loaded.model_params. Without loaded rows for the date, both models are
-- "not converged" with the reason, so the scores are null and the build warns.
{%- set loaded = adapter.get_relation(
    database=target.database, schema='predictive_loaded', identifier='model_params'
) if execute else none %}
{%- set double = audience.type_double() %}
with histories as (
    select * from {{ ref('int_customers_order_days_counted') }}
),

{% if loaded is not none %}
    final as (
        select
            model,
            parameter,
            cast(value as {{ double }}) as value,
            cast(log_likelihood as {{ double }}) as log_likelihood,
            cast(n_customers as {{ dbt.type_int() }}) as n_customers,
            is_converged,
            failure_reason
        from {{ loaded }}
        where as_of_date = {{ audience.as_of_date() }}
    )
{% else %}
    models as (
        {%- for model, parameter in [('bg_nbd', 'r'), ('bg_nbd', 'alpha'), ('bg_nbd', 'a'),
            ('bg_nbd', 'b'), ('gamma_gamma', 'p'), ('gamma_gamma', 'q'), ('gamma_gamma', 'gamma')] %}
            select
                '{{ model }}' as model,
                '{{ parameter }}' as parameter
            {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ),

    buyers as (
        select
            count(*) as bg_nbd_customers,
            coalesce(sum(case when repeat_order_days >= 1 then 1 else 0 end), 0)
                as gamma_gamma_customers
        from histories
    ),

    final as (
        select
            models.model,
            models.parameter,
            cast(null as {{ double }}) as value,
            cast(null as {{ double }}) as log_likelihood,
            cast(
                case
                    when models.model = 'bg_nbd' then buyers.bg_nbd_customers
                    else buyers.gamma_gamma_customers
                end as {{ dbt.type_int() }}
            ) as n_customers,
            false as is_converged,
            'parameters not loaded for this date (audience.predictive.load_into_postgres)'
                as failure_reason
        from models
        cross join buyers
    )
{% endif %}

select * from final
