-- Lift per (cohort_date, segment family, segment, window, comparison) (SPEC section 9):
-- `holdout` compares a segment's treatment with its control group, `global` its
-- treatment with its global-control members; family `program`, segment `all` compares
-- every emailable customer not in global control with global control (global only).
-- lift = treatment_rate - control_rate; 95 % interval: unpooled Wald,
-- lift +- 1.959963984540054 * sqrt(p1 (1 - p1) / n1 + p0 (1 - p0) / n0); p-value:
-- two-sided pooled z-test, its normal tail from a portable erfc (macros/measurement.sql).
-- A pooled standard error of 0 gives p = 1 and the interval [lift, lift]; an empty
-- group gives null rates, lift, interval and p-value.
with outcomes as (
    select * from {{ ref('fct_segment_outcomes') }}
),

comparisons as (
    select
        'holdout' as comparison,
        'control' as control_group
    union all
    select
        'global' as comparison,
        'global_control' as control_group
),

paired as (
    select
        outcomes.cohort_date,
        outcomes.segment_family,
        outcomes.segment,
        outcomes.window_days,
        comparisons.comparison,
        sum(case when outcomes.outcome_group = 'treatment' then outcomes.members else 0 end)
            as treatment_members,
        sum(case when outcomes.outcome_group = 'treatment' then outcomes.converters else 0 end)
            as treatment_converters,
        sum(
            case
                when outcomes.outcome_group = comparisons.control_group then outcomes.members
                else 0
            end
        ) as control_members,
        sum(
            case
                when outcomes.outcome_group = comparisons.control_group then outcomes.converters
                else 0
            end
        ) as control_converters,
        min(case when outcomes.is_mature then 1 else 0 end) as all_mature
    from outcomes
    inner join comparisons
        on outcomes.outcome_group in ('treatment', comparisons.control_group)
    where not (outcomes.segment_family = 'program' and comparisons.comparison = 'holdout')
    group by
        outcomes.cohort_date,
        outcomes.segment_family,
        outcomes.segment,
        outcomes.window_days,
        comparisons.comparison
),

rates as (
    select
        *,
        cast(treatment_converters as {{ audience.type_double() }})
        / nullif(treatment_members, 0) as p1,
        cast(control_converters as {{ audience.type_double() }})
        / nullif(control_members, 0) as p0,
        cast(treatment_converters + control_converters as {{ audience.type_double() }})
        / nullif(treatment_members + control_members, 0) as pooled
    from paired
),

errors as (
    select
        *,
        p1 - p0 as lift,
        sqrt(p1 * (1 - p1) / treatment_members + p0 * (1 - p0) / control_members) as unpooled_se,
        sqrt(pooled * (1 - pooled) * (1.0 / treatment_members + 1.0 / control_members)) as pooled_se
    from rates
    where treatment_members > 0 and control_members > 0
),

tested as (
    select
        *,
        case when pooled_se > 0 then abs(lift) / pooled_se end as abs_z
    from errors
),

final as (
    select
        rates.cohort_date,
        {{ dbt.cast('rates.segment_family', dbt.type_string()) }} as segment_family,
        {{ dbt.cast('rates.segment', dbt.type_string()) }} as segment,
        cast(rates.window_days as {{ dbt.type_int() }}) as window_days,
        {{ dbt.cast('rates.comparison', dbt.type_string()) }} as comparison,
        cast(rates.treatment_members as bigint) as treatment_members,
        cast(rates.control_members as bigint) as control_members,
        cast(rates.treatment_converters as bigint) as treatment_converters,
        cast(rates.control_converters as bigint) as control_converters,
        cast(rates.p1 as {{ audience.type_double() }}) as treatment_rate,
        cast(rates.p0 as {{ audience.type_double() }}) as control_rate,
        cast(tested.lift as {{ audience.type_double() }}) as lift,
        cast(
            case
                when tested.pooled_se = 0 then tested.lift
                else tested.lift - 1.959963984540054 * tested.unpooled_se
            end as {{ audience.type_double() }}
        ) as ci_low,
        cast(
            case
                when tested.pooled_se = 0 then tested.lift
                else tested.lift + 1.959963984540054 * tested.unpooled_se
            end as {{ audience.type_double() }}
        ) as ci_high,
        cast(
            case
                when tested.pooled_se = 0 then 1.0
                when tested.pooled_se > 0
                    then {{ audience.normal_two_sided_p_value('tested.abs_z') }}
            end as {{ audience.type_double() }}
        ) as p_value,
        rates.all_mature = 1 as is_mature
    from rates
    left join tested
        on
            rates.cohort_date = tested.cohort_date
            and rates.segment_family = tested.segment_family
            and rates.segment = tested.segment
            and rates.window_days = tested.window_days
            and rates.comparison = tested.comparison
)

select * from final
