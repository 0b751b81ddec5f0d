{#- Measurement (SPEC section 9): forward outcomes windows and the statistics of lift. -#}

{#- var outcome_windows_days: a non-empty list of distinct whole numbers of days >= 1. -#}
{% macro outcome_windows_days() -%}
    {%- set windows = var('outcome_windows_days') -%}
    {%- set message = "var outcome_windows_days must be a non-empty list of distinct whole numbers of days >= 1, e.g. [7, 30, 90], got '" ~ windows ~ "'" -%}
    {%- if windows is string or windows is mapping or windows is not iterable or windows | length == 0 -%}
        {{ exceptions.raise_compiler_error(message) }}
    {%- endif -%}
    {%- for days in windows -%}
        {%- if days is not number or days is boolean or days < 1 or days != days | int -%}
            {{ exceptions.raise_compiler_error(message) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if windows | unique | list | length != windows | length -%}
        {{ exceptions.raise_compiler_error(message) }}
    {%- endif -%}
    {{ return(windows | map('int') | list) }}
{%- endmacro %}

{#- Whether a window of `days` days after `cohort_date` is over as of the build's date L:
    D + N <= L, or D + N < L when L is today (today is not over). -#}
{% macro outcome_window_is_mature(cohort_date, days) -%}
    ({{ audience.days_between(cohort_date, audience.as_of_date()) }}
    {{ '>' if audience.as_of_date_is_today() else '>=' }} {{ days }})
{%- endmacro %}

{#- The first family of the registry (var segment_families) that is exhaustive over
    customers: every customer is in exactly one of its segments on every date, so its
    memberships list the customers of a date once (fct_segment_outcomes' cohorts). -#}
{% macro customer_family() -%}
    {%- for name, family in var('segment_families').items()
        if family['exhaustive'] and family['population'] == 'customers' -%}
        {{ return(name) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("var segment_families needs a family that is exhaustive over customers (population: customers), for the cohorts of fct_segment_outcomes") }}
{%- endmacro %}

{#- Pre-hook of fct_segment_outcomes: delete the (cohort, window) rows that were not mature
    when measured, for cohorts on or before this build's date, unless a later build
    measured them (a backfill of an earlier date never replaces a later measurement).
    The model then measures every (cohort, window) of the history it has no row for. -#}
{% macro delete_immature_outcomes() -%}
    {%- if is_incremental() and audience.can_delete_rows() -%}
        delete from {{ this }}
        where not {{ audience.outcome_is_kept() }}
    {%- endif -%}
{%- endmacro %}

{#- True for a row of fct_segment_outcomes that a build keeps as measured: mature, or
    of a cohort after this build's date, or measured by a later build (columns of the
    table `alias`, unqualified without it). -#}
{% macro outcome_is_kept(alias=none) -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    (
        {{ prefix }}is_mature
        or {{ prefix }}cohort_date > {{ audience.as_of_date() }}
        or {{ prefix }}measured_as_of_date > {{ audience.as_of_date() }}
    )
{%- endmacro %}

{#- Where rows cannot be deleted (Spark), fct_segment_outcomes overwrites the partitions
    (cohort dates) it measures: their kept rows are written again with the new ones. -#}
{% macro outcomes_kept_in_rewritten_cohorts(columns) -%}
    {%- if is_incremental() and not audience.can_delete_rows() %}
        union all
        select {{ columns | join(', ') }}
        from {{ this }} as kept
        where
            {{ audience.outcome_is_kept('kept') }}
            and kept.cohort_date in (select pending_cohorts.cohort_date from pending_cohorts)
    {%- endif %}
{%- endmacro %}

{#- The engine's 64-bit floating point type (DuckDB's `float` is 32-bit). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'audience')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- Complementary error function erfc(x) for x >= 0, in portable SQL (no UDF): the
    Chebyshev fit of Numerical Recipes (Press et al., 2nd ed., section 6.2, erfcc), with
    fractional error below 1.2e-7 everywhere. For x > 26 it returns 0 (erfc(26) < 1e-295;
    PostgreSQL raises on exp underflow). `x` should be a column or a short expression: it
    is repeated. -#}
{% macro erfc(x) -%}
    {{ return(adapter.dispatch('erfc', 'audience')(x)) }}
{%- endmacro %}

{% macro default__erfc(x) -%}
    {%- set t = '(1.0 / (1.0 + 0.5 * ' ~ x ~ '))' -%}
    case
        when {{ x }} > 26 then 0.0
        else {{ t }} * exp(
            -{{ x }} * {{ x }} - 1.26551223 + {{ t }} * (1.00002368 + {{ t }} * (0.37409196
            + {{ t }} * (0.09678418 + {{ t }} * (-0.18628806 + {{ t }} * (0.27886807
            + {{ t }} * (-1.13520398 + {{ t }} * (1.48851587 + {{ t }} * (-0.82215223
            + {{ t }} * 0.17087277))))))))
        )
    end
{%- endmacro %}

{#- Two-sided p-value of a standard normal statistic whose absolute value is `abs_z`:
    2 (1 - Phi(|z|)) = erfc(|z| / sqrt(2)), at most 1 (the fit gives 1 + 1e-8 at 0). -#}
{% macro normal_two_sided_p_value(abs_z) -%}
    least(1.0, {{ audience.erfc('(' ~ abs_z ~ ' / sqrt(2.0))') }})
{%- endmacro %}
