{#- Segment names from free text (crm_tag family): lower(trim(text)), every run of
    characters outside a-z and 0-9 replaced by one '_', no '_' at either end. -#}
{% macro slug(expression) -%}
    {{ audience.regexp_replace_all(
        audience.regexp_replace_all('lower(trim(' ~ expression ~ '))', '[^a-z0-9]+', '_'),
        '^_+|_+$',
        ''
    ) }}
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
