{#- The not-null constraints of a mart's enforced contract, checked after the mart is
    built where the engine does not enforce them (a post-hook of every mart). DuckDB and
    PostgreSQL refuse a null on insert, so there the contract alone proves the column
    and nothing runs (no not_null data test repeats it either). Spark tables without
    Delta carry no constraints: one query fails the model on the first null, naming its
    not-null columns. Views have no constraints anywhere; their columns keep their
    not_null data tests. -#}
{% macro check_not_null_constraints() -%}
    {{ return(adapter.dispatch('check_not_null_constraints', 'audience')()) }}
{%- endmacro %}

{% macro default__check_not_null_constraints() -%}
{%- endmacro %}

{% macro spark__check_not_null_constraints() -%}
    {%- set not_null_columns = [] -%}
    {%- if model.config.contract.enforced and model.config.materialized in ('table', 'incremental') -%}
        {%- for column in model.columns.values() -%}
            {%- if column.constraints | selectattr('type', 'equalto', 'not_null') | list -%}
                {%- do not_null_columns.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if not_null_columns %}
    select raise_error('{{ this }}: a null in a not-null column of its contract ({{ not_null_columns | join(", ") }})')
    from {{ this }}
    where {% for column in not_null_columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
    limit 1
    {%- endif %}
{%- endmacro %}
