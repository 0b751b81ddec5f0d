{#- A share or rate as decimal(9, 4): numerator / denominator rounded to 4 places, null
    when the denominator is 0 (a rate of nothing is unknown, not zero). -#}
{% macro ratio(numerator, denominator) -%}
    cast(round(cast({{ numerator }} as decimal(18, 6)) / nullif({{ denominator }}, 0), 4)
        as decimal(9, 4))
{%- endmacro %}
