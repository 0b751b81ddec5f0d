{#- Numeric vars (thresholds), declared once with their allowed range and read only
    through number_var, which refuses a value outside it (or not a number at all, such
    as a SQL fragment) at parse time, with a message naming the var, its range and what
    was given. The value returned is a Jinja number, so what reaches the SQL is digits.

    Each rule: min, max (none = no bound), integer (a whole number), nullable (null is a
    valid value, e.g. rfm_window_days: all history), unit (words after "number", e.g.
    "of days"). -#}
{% macro number_var_rules() -%}
    {%- set days = {'min': 1, 'max': none, 'integer': true, 'unit': 'of days'} -%}
    {%- set count = {'min': 1, 'max': none, 'integer': true} -%}
    {%- set share = {'min': 0, 'max': 1, 'integer': false} -%}
    {%- set percent = {'min': 0, 'max': 100, 'integer': true} -%}
    {#- A segment's size can more than double in a day: that share has no upper bound. -#}
    {%- set change_share = {'min': 0, 'max': none, 'integer': false} -%}
    {{ return({
        'lifecycle_new_days': days,
        'lifecycle_active_days': days,
        'lifecycle_at_risk_days': days,
        'lifecycle_lapsed_days': days,
        'lifecycle_reactivation_gap_days': days,
        'engagement_window_days': days,
        'new_subscriber_days': days,
        'vip_window_days': days,
        'cart_abandon_days': days,
        'rfm_window_days': {'min': 1, 'max': none, 'integer': true, 'unit': 'of days', 'nullable': true},
        'incremental_lookback_days': {'min': 0, 'max': none, 'integer': true, 'unit': 'of days'},
        'enterprise_min_employees': count,
        'mid_market_min_employees': count,
        'vip_min_orders': count,
        'repeat_buyer_min_orders': count,
        'bargain_min_orders': count,
        'bargain_min_discounted_share': share,
        'lapsed_high_value_min_orders': count,
        'lapsed_high_value_min_days': {'min': 0, 'max': none, 'integer': true, 'unit': 'of days'},
        'lapsed_high_value_max_days': days,
        'holdout_pct': percent,
        'global_holdout_pct': percent,
        'max_audience_overlap_share': share,
        'max_daily_size_change_share': change_share,
        'max_publish_drop_share': share,
        'min_segment_size': {'min': 0, 'max': none, 'integer': true},
        'drift_min_members': {'min': 0, 'max': none, 'integer': true},
        'predictive_min_bg_nbd_buyers': count,
        'predictive_min_gamma_gamma_buyers': count,
        'predictive_max_iterations': count,
        'churn_risk_high_below': share,
        'churn_risk_medium_below': share,
    }) }}
{%- endmacro %}

{#- The value of a numeric var, validated against its rule in number_var_rules. -#}
{% macro number_var(name) -%}
    {%- set rules = audience.number_var_rules() -%}
    {%- if name not in rules -%}
        {{ exceptions.raise_compiler_error("number_var: '" ~ name ~ "' is not a declared numeric var (see number_var_rules)") }}
    {%- endif -%}
    {%- set rule = rules[name] -%}
    {%- set value = var(name) -%}
    {%- if value is none and rule.get('nullable') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set allowed = ('a whole number' if rule['integer'] else 'a number')
        ~ ((' ' ~ rule['unit']) if rule.get('unit') else '')
        ~ ((' from ' ~ rule['min'] ~ ' to ' ~ rule['max']) if rule['max'] is not none else (' >= ' ~ rule['min'])) -%}
    {%- if rule.get('nullable') -%}
        {%- set allowed = 'null (all history) or ' ~ allowed -%}
    {%- endif -%}
    {%- set is_number = value is number and value is not boolean -%}
    {%- if not is_number
        or (rule['integer'] and value != value | int)
        or value < rule['min']
        or (rule['max'] is not none and value > rule['max']) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be " ~ allowed ~ ", got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int if rule['integer'] else value) }}
{%- endmacro %}

{#- Every declared numeric var, checked at once (an on-run-start hook, rendered when the
    project is parsed): a var no model reads (max_publish_drop_share, read by the
    Python tooling) is refused the same way. -#}
{% macro validate_number_vars() -%}
    {%- for name in audience.number_var_rules() -%}
        {%- do audience.number_var(name) -%}
    {%- endfor -%}
    {{ return("") }}
{%- endmacro %}
