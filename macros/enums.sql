{#- Enumerations fixed by the raw contract (SPEC section 1). -#}

{% macro email_event_types() -%}
    {{ return(['subscribe', 'send', 'open', 'click', 'bounce', 'unsubscribe', 'complaint']) }}
{%- endmacro %}

{#- A list of strings as SQL literals: 'a', 'b'. -#}
{% macro sql_string_list(values) -%}
    {%- for value in values -%}
        '{{ value }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
