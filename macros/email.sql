{#- Email rules of SPEC section 2: normalise as lower(trim(email)); valid when the
    normalised value matches the pattern below. -#}

{% macro normalise_email(column) -%}
    lower(trim({{ column }}))
{%- endmacro %}

{% macro is_valid_email(normalised_email) -%}
    coalesce({{ audience.regexp_matches(normalised_email, '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$') }}, false)
{%- endmacro %}
