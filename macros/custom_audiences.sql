{#- The custom audiences of var custom_audiences, validated: each has a name equal to its
    slug (unique), a description and a SQL predicate over dim_customers columns. A
    mistake fails the compilation with a message naming the audience. -#}

{% macro custom_audiences() -%}
    {%- set audiences = var('custom_audiences', []) or [] -%}
    {%- if audiences is string or audiences is mapping -%}
        {{ exceptions.raise_compiler_error("var custom_audiences must be a list of {name, description, predicate}") }}
    {%- endif -%}
    {%- set seen = [] -%}
    {%- for custom in audiences -%}
        {%- set name = custom.get('name') if custom is mapping else none -%}
        {%- if not audience.is_slug(name) -%}
            {%- set suggestion = modules.re.sub('[^a-z0-9]+', '_', (name or '') | string | trim | lower).strip('_') -%}
            {{ exceptions.raise_compiler_error(
                "custom audience '" ~ name ~ "' (entry " ~ loop.index ~ "): a name must equal its slug: "
                ~ "lowercase a-z and 0-9 words joined by single '_', at most "
                ~ audience.max_name_length() ~ " characters"
                ~ (", e.g. '" ~ suggestion ~ "'" if suggestion and suggestion | length <= audience.max_name_length() else "")) }}
        {%- endif -%}
        {%- if name in seen -%}
            {{ exceptions.raise_compiler_error("custom audience '" ~ name ~ "' is declared twice") }}
        {%- endif -%}
        {%- do seen.append(name) -%}
        {%- if not custom.get('description') -%}
            {{ exceptions.raise_compiler_error("custom audience '" ~ name ~ "' has no description") }}
        {%- endif -%}
        {%- if not custom.get('predicate') or (custom.get('predicate') | string | trim) == '' -%}
            {{ exceptions.raise_compiler_error("custom audience '" ~ name ~ "' has no predicate") }}
        {%- endif -%}
        {%- if execute -%}
            {{ audience.check_custom_predicate(name, custom.get('predicate') | string) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(audiences) }}
{%- endmacro %}

{#- Fails when the predicate names a column dim_customers does not have, or (where the
    engine can tell without running it) is not valid SQL. -#}
{% macro check_custom_predicate(name, predicate) -%}
    {%- set sql_words = [
        'and', 'or', 'not', 'in', 'is', 'null', 'true', 'false', 'between', 'like', 'ilike',
        'case', 'when', 'then', 'else', 'end', 'as', 'cast', 'date', 'timestamp', 'interval',
        'varchar', 'integer', 'int', 'bigint', 'decimal', 'numeric', 'double', 'boolean',
        'text', 'day', 'days', 'month', 'year', 'exists', 'any', 'all', 'distinct',
        'current_date', 'current_timestamp'
    ] -%}
    {%- set columns = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == 'dim_customers' -%}
        {%- for column in node.columns -%}{%- do columns.append(column | lower) -%}{%- endfor -%}
    {%- endfor -%}
    {%- set without_strings = modules.re.sub("'(?:[^']|'')*'", "''", predicate) -%}
    {%- set unknown = [] -%}
    {%- for word in modules.re.findall('(?<![.\\w])([A-Za-z_][A-Za-z0-9_]*)\\b(?!\\s*\\()', without_strings) -%}
        {%- if word | lower not in sql_words and word | lower not in columns and word not in unknown -%}
            {%- do unknown.append(word) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if unknown -%}
        {{ exceptions.raise_compiler_error(
            "custom audience '" ~ name ~ "': unknown column(s) " ~ unknown | join(', ')
            ~ " in predicate: " ~ predicate ~ ". Columns of dim_customers: " ~ columns | join(', ')
        ) }}
    {%- endif -%}
    {%- set syntax_error = audience.sql_syntax_error('select 1 from dim_customers where (' ~ predicate ~ ')') -%}
    {%- if syntax_error -%}
        {{ exceptions.raise_compiler_error("custom audience '" ~ name ~ "': broken predicate (" ~ syntax_error ~ "): " ~ predicate) }}
    {%- endif -%}
{%- endmacro %}

{#- The parser's error message for a SQL statement, or '' when it parses. Engines
    without a way to parse without running report nothing here; the build then fails
    on the statement itself. -#}
{% macro sql_syntax_error(sql) -%}
    {{ return(adapter.dispatch('sql_syntax_error', 'audience')(sql)) }}
{%- endmacro %}

{% macro default__sql_syntax_error(sql) -%}
    {{ return('') }}
{%- endmacro %}

{% macro duckdb__sql_syntax_error(sql) -%}
    {%- set result = run_query(
        "select json_extract_string(json_serialize_sql('" ~ sql | replace("'", "''") ~ "'), '$.error_message')"
    ) -%}
    {{ return(result.columns[0].values()[0] or '') }}
{%- endmacro %}
