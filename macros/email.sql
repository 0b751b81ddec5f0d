{#- Email rules of SPEC section 2: normalise as lower(trim(email)); valid when the
    normalised value matches the pattern below. -#}

{% macro normalise_email(column) -%}
    lower(trim({{ column }}))
{%- endmacro %}

{% macro is_valid_email(normalised_email) -%}
    coalesce({{ audience.regexp_matches(normalised_email, '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$') }}, false)
{%- endmacro %}

{#- SPEC section 5: suppressed when the latest unsubscribe, complaint or hard bounce is
    at or after the latest subscribe, or there is no subscribe; never null. The two
    arguments are that latest suppression and that latest subscribe (null when none). -#}
{% macro is_suppressed(last_suppressed_at, last_subscribed_at) -%}
    coalesce(
        {{ last_suppressed_at }} is not null
        and (
            {{ last_subscribed_at }} is null
            or {{ last_suppressed_at }} >= {{ last_subscribed_at }}
        ),
        false
    )
{%- endmacro %}
