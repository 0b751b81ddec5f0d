{#- Functions whose spelling differs between engines, dispatched per adapter. -#}

{#- True when the string matches the regular expression anywhere (anchor it with ^ $). -#}
{% macro regexp_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_matches', 'audience')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_matches(expression, pattern) -%}
    regexp_like({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regexp_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__regexp_matches(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern }}')
{%- endmacro %}

{#- Spark reads backslash escapes in string literals ('\s' would be 's'): the pattern's
    backslashes are doubled, so the regular expression gets them as written. -#}
{% macro spark__regexp_matches(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern | replace("\\", "\\\\") }}')
{%- endmacro %}

{#- Replace every match of the regular expression (not only the first). -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'audience')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace(
        {{ expression }},
        '{{ pattern | replace("\\", "\\\\") }}',
        '{{ replacement | replace("\\", "\\\\") }}'
    )
{%- endmacro %}

{#- A string compared byte by byte (ORDER BY, comparisons), whatever the database's
    collation: DuckDB and Spark compare strings in binary by default; PostgreSQL
    follows the column's collation (often a locale) unless told "C". -#}
{% macro byte_order(expression) -%}
    {{ return(adapter.dispatch('byte_order', 'audience')(expression)) }}
{%- endmacro %}

{% macro default__byte_order(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro postgres__byte_order(expression) -%}
    {{ expression }} collate "C"
{%- endmacro %}

{#- Spark has no unsized varchar (its text type is string) and no `double precision`:
    contract types written so in the YAML (the marts' data_type, also read by DuckDB and
    PostgreSQL) are cast as string and double there. dbt's contract check casts through
    this macro. -#}
{% macro spark__cast(field, type) -%}
    {%- set spark_types = {'varchar': 'string', 'double precision': 'double'} -%}
    cast({{ field }} as {{ spark_types.get(type | trim | lower, type) }})
{%- endmacro %}

{#- dbt-spark's listagg ignores the order (collect_list, in whatever order the rows
    arrive: a definition could read differently from DuckDB's, run to run). Spark 4 has
    listagg with `within group (order by ...)`, as the other engines. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with a limit is not written for Spark in this project") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
