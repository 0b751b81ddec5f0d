{#- Today in UTC: the date of the build's start (run_started_at), never the database's
    clock. -#}
{% macro today_utc() -%}
    {{ return(run_started_at.astimezone(modules.pytz.utc).date()) }}
{%- endmacro %}

{#- The as-of date as a SQL date literal: var as_of_date (YYYY-MM-DD), empty meaning
    today in UTC. A malformed value, or a date after today (UTC), fails the compilation
    with what to fix: a future date would write a date into the history that later runs
    treat as real (SPEC section 3). -#}
{% macro as_of_date() -%}
    {%- set configured = var('as_of_date', '') -%}
    {%- set today = audience.today_utc() -%}
    {%- if configured is none or (configured | string | trim) == '' -%}
        {%- set value = today.isoformat() -%}
    {%- else -%}
        {%- set value = configured | string | trim -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
            {{ exceptions.raise_compiler_error("var as_of_date must be a date as YYYY-MM-DD (or empty for today in UTC), got '" ~ configured ~ "'") }}
        {%- endif -%}
        {%- set parsed = modules.datetime.datetime.strptime(value, '%Y-%m-%d').date() -%}
        {%- if parsed > today -%}
            {{ exceptions.raise_compiler_error("var as_of_date must not be after today (" ~ today.isoformat() ~ ", UTC), got '" ~ value ~ "': a future date would enter the segment history as if it had happened") }}
        {%- endif -%}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{#- Whole days from a date to the as-of date (positive in the past). -#}
{% macro days_before_as_of(date_expression) -%}
    {{ audience.days_between(date_expression, audience.as_of_date()) }}
{%- endmacro %}

{#- Whole days from one DATE to another (end - start). -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'audience')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    ({{ end_date }} - {{ start_date }})
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}

{#- "Within the last N days": 0 <= as_of_date - date < N, in whole days (SPEC section 3). -#}
{% macro within_days(date_expression, days) -%}
    ({{ audience.days_before_as_of(date_expression) }} >= 0
    and {{ audience.days_before_as_of(date_expression) }} < {{ days }})
{%- endmacro %}

{#- The date part of a timestamp. -#}
{% macro to_date(timestamp_expression) -%}
    cast({{ timestamp_expression }} as date)
{%- endmacro %}

{#- A CRM contact or shop customer exists as of the date unless created after it (a
    null created_at is not after it). -#}
{% macro exists_as_of(created_at_expression) -%}
    coalesce({{ audience.on_or_before_as_of(audience.to_date(created_at_expression)) }}, true)
{%- endmacro %}

{#- A business date on or before the as-of date (rows after it are ignored). -#}
{% macro on_or_before_as_of(date_expression) -%}
    {{ date_expression }} <= {{ audience.as_of_date() }}
{%- endmacro %}

{#- True when the as-of date is today in UTC (the day is not over: SPEC section 9 counts
    a window as mature only when it ended before today). -#}
{% macro as_of_date_is_today() -%}
    {%- set configured = var('as_of_date', '') -%}
    {%- set today = modules.datetime.datetime.utcnow().date().isoformat() -%}
    {{ return(configured is none or (configured | string | trim) in ('', today)) }}
{%- endmacro %}
