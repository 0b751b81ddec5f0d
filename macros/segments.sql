{#- The slug (SPEC section 5), for every segment name that comes from data:
    lower(trim(text)), every run of characters outside a-z and 0-9 replaced by one '_',
    no '_' at either end; a slug longer than 63 characters becomes its first 54
    characters (any '_' at the end removed) + '_' + the first 8 hex digits of md5 of the
    whole slug. So every name is snake_case, at most 63 characters, and safe as a file
    name. Empty when the text has no letter or digit a-z 0-9 (the caller decides). -#}
{% macro slug(expression) -%}
    {%- set full = audience.regexp_replace_all(
        audience.regexp_replace_all('lower(trim(' ~ expression ~ '))', '[^a-z0-9]+', '_'),
        '^_+|_+$',
        ''
    ) -%}
    case
        when length({{ full }}) > {{ audience.max_name_length() }}
            then
                {{ audience.regexp_replace_all('substr(' ~ full ~ ', 1, 54)', '_+$', '') }}
                || '_' || substr({{ dbt.hash(full) }}, 1, 8)
        else {{ full }}
    end
{%- endmacro %}

{#- The longest segment name. -#}
{% macro max_name_length() -%}
    {{ return(63) }}
{%- endmacro %}

{#- A name already equal to its slug (configured names: custom audiences). -#}
{% macro is_slug(name) -%}
    {{ return(name is string
        and modules.re.match('^[a-z0-9]+(_[a-z0-9]+)*$', name) is not none
        and name | length <= audience.max_name_length()) }}
{%- endmacro %}

{#- Membership rows of an exclusive family whose segment is a dim_customers column;
    customers outside the family's population have a null there. -#}
{% macro family_from_column(family, column) -%}
    select
        customer_id,
        '{{ family }}' as segment_family,
        {{ column }} as segment
    from customers
    where {{ column }} is not null
{%- endmacro %}

{#- Families that put a customer in at most one segment (SPEC section 5), from the
    registry var segment_families. -#}
{% macro exclusive_families() -%}
    {{ return(audience.families_where(true)) }}
{%- endmacro %}

{#- Families whose segments may share customers: the overlap matrix covers these. -#}
{% macro non_exclusive_families() -%}
    {{ return(audience.families_where(false)) }}
{%- endmacro %}

{% macro families_where(exclusive) -%}
    {%- set names = [] -%}
    {%- for name, family in var('segment_families').items() if family['exclusive'] == exclusive -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}
