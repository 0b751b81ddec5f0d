{#- A share or rate as decimal(9, 4): numerator / denominator rounded to 4 places, null
    when the denominator is 0 (a rate of nothing is unknown, not zero). -#}
{% macro ratio(numerator, denominator) -%}
    cast(round(cast({{ numerator }} as decimal(18, 6)) / nullif({{ denominator }}, 0), 4)
        as decimal(9, 4))
{%- endmacro %}

{#- Money divided by a count, rounded half away from zero to cents, as decimal(38, 2);
    null when the count is 0 (AOV, SPEC section 2). Exact on every engine. -#}
{% macro money_ratio(money, count) -%}
    {{ return(adapter.dispatch('money_ratio', 'audience')(money, count)) }}
{%- endmacro %}

{#- Engines whose decimal division keeps enough digits (PostgreSQL numeric, Spark). -#}
{% macro default__money_ratio(money, count) -%}
    cast(round(cast({{ money }} as decimal(38, 2)) / nullif({{ count }}, 0), 2) as decimal(38, 2))
{%- endmacro %}

{#- DuckDB divides decimals in double precision (about 16 digits), which loses cents
    of large sums and rounds ties either way: divide whole cents as integers instead,
    rounding the remainder half away from zero. -#}
{% macro duckdb__money_ratio(money, count) -%}
    {%- set cents = 'cast(cast(' ~ money ~ ' as decimal(38, 2)) * 100 as hugeint)' -%}
    {%- set divisor = 'cast(nullif(' ~ count ~ ', 0) as hugeint)' -%}
    cast(
        cast(
            {{ cents }} // {{ divisor }}
            + case
                when 2 * abs({{ cents }} % {{ divisor }}) >= abs({{ divisor }})
                    then sign({{ cents }}) * sign({{ divisor }})
                else 0
            end
            as decimal(38, 0)
        ) * cast(0.01 as decimal(3, 2))
        as decimal(38, 2)
    )
{%- endmacro %}
