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

{#- Fails, naming the audience, unless the predicate is a plain expression over the
    columns of dim_customers: only the SQL words of predicate_words(), the scalar
    functions of predicate_functions(), columns, literals and operators. Subqueries,
    table functions, file or network access and a second statement are refused on every
    engine by these word rules; DuckDB also parses the predicate with its own parser and
    refuses any node that is not a plain expression. Then a trial query (limit 0) on the
    real relation checks that the engine accepts it. -#}
{% macro check_custom_predicate(name, predicate) -%}
    {%- set columns = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == 'dim_customers' -%}
        {%- for column in node.columns -%}{%- do columns.append(column | lower) -%}{%- endfor -%}
    {%- endfor -%}
    {%- set refusal = audience.predicate_word_error(predicate, columns) -%}
    {%- if not refusal -%}
        {%- set refusal = audience.predicate_structure_error(predicate, columns) -%}
    {%- endif -%}
    {%- if refusal -%}
        {{ exceptions.raise_compiler_error("custom audience '" ~ name ~ "': " ~ refusal ~ " in predicate: " ~ predicate) }}
    {%- endif -%}
    {%- set trial = "select 1 as ok from " ~ ref('dim_customers') ~ " where (" ~ predicate ~ ") limit 0" -%}
    {%- if adapter.get_relation(database=ref('dim_customers').database, schema=ref('dim_customers').schema, identifier=ref('dim_customers').identifier) -%}
        {%- do run_query(trial) -%}
    {%- endif -%}
{%- endmacro %}

{#- The words a predicate may use besides columns and functions. -#}
{% macro predicate_words() -%}
    {{ return([
        'and', 'or', 'not', 'in', 'is', 'null', 'true', 'false', 'between', 'symmetric', 'like', 'ilike',
        'similar', 'to', 'escape', 'distinct', 'from', 'case', 'when', 'then', 'else', 'end', 'as', 'cast',
        'date', 'timestamp', 'interval', 'varchar', 'integer', 'int', 'bigint', 'decimal', 'numeric',
        'double', 'boolean', 'text', 'year', 'quarter', 'month', 'week', 'day', 'days', 'hour', 'minute',
        'second', 'dow', 'doy', 'epoch', 'current_date', 'current_timestamp'
    ]) }}
{%- endmacro %}

{#- Scalar functions a predicate may call (portable ones), with the names DuckDB's
    parser gives operators and rewritten forms (like, similar to, extract, ||). -#}
{% macro predicate_functions() -%}
    {{ return([
        'lower', 'upper', 'trim', 'ltrim', 'rtrim', 'length', 'coalesce', 'nullif', 'abs', 'round',
        'floor', 'ceil', 'ceiling', 'greatest', 'least', 'substr', 'substring', 'concat', 'replace',
        'position', 'date_trunc', 'date_part', 'extract', 'mod', 'sign', 'cast'
    ]) }}
{%- endmacro %}

{#- Why the predicate's words are refused, or '' when they pass. String literals are
    set aside first, so a word inside quotes is never a column or a call. -#}
{% macro predicate_word_error(predicate, columns) -%}
    {%- set text = modules.re.sub("'(?:[^']|'')*'", "''", predicate) -%}
    {%- if ';' in text or '--' in text or '/*' in text or '"' in text or '$' in text -%}
        {{ return("a predicate is one expression: no ';', comments, quoted names or parameters") }}
    {%- endif -%}
    {#- 'from' only in "is [not] distinct from" and "extract(part from x)" -#}
    {%- set text = modules.re.sub('(?i)\\bdistinct\\s+from\\b', 'distinct', text) -%}
    {%- set text = modules.re.sub('(?i)\\bextract\\s*\\(\\s*([a-z]+)\\s+from\\b', 'extract(\\1,', text) -%}
    {%- set words = audience.predicate_words() | reject('equalto', 'from') | list -%}
    {%- set functions = audience.predicate_functions() -%}
    {%- set calls, unknown = [], [] -%}
    {%- for word, paren in modules.re.findall('(?<![.\\w])([A-Za-z_][A-Za-z0-9_]*)\\b(\\s*\\()?', text) -%}
        {%- set word = word | lower -%}
        {%- if paren and word not in functions and word not in words and word not in calls -%}
            {%- do calls.append(word) -%}
        {%- elif not paren and word not in words and word not in columns and word not in unknown -%}
            {%- do unknown.append(word) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if calls -%}
        {{ return("function(s) or keyword(s) not allowed: " ~ calls | join(', ')
            ~ " (allowed functions: " ~ functions | join(', ') ~ ")") }}
    {%- endif -%}
    {%- if unknown -%}
        {{ return("unknown column(s) " ~ unknown | join(', ') ~ ". Columns of dim_customers: " ~ columns | join(', ')) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{#- Why the engine's own parser refuses the predicate as a plain expression, or ''.
    Engines without a parser the project can call return ''; the trial query and the
    word rules stand there. -#}
{% macro predicate_structure_error(predicate, columns) -%}
    {{ return(adapter.dispatch('predicate_structure_error', 'audience')(predicate, columns)) }}
{%- endmacro %}

{% macro default__predicate_structure_error(predicate, columns) -%}
    {{ return('') }}
{%- endmacro %}

{% macro duckdb__predicate_structure_error(predicate, columns) -%}
    {%- set sql = 'select 1 from dim_customers where (' ~ predicate ~ ')' -%}
    {%- set parsed = run_query("select json_serialize_sql('" ~ sql | replace("'", "''") ~ "')").columns[0].values()[0] -%}
    {%- set tree = fromjson(parsed) -%}
    {%- if tree['error'] -%}
        {{ return('broken predicate (' ~ tree['error_message'] ~ ')') }}
    {%- endif -%}
    {%- set node = tree['statements'][0]['node'] if tree['statements'] | length == 1 else {} -%}
    {%- if node.get('type') != 'SELECT_NODE' or node['from_table'].get('table_name') != 'dim_customers'
        or node['modifiers'] or node['group_expressions'] or node['having'] or node['qualify'] -%}
        {{ return('a predicate is one expression over dim_customers, not a query') }}
    {%- endif -%}
    {%- set where = tojson(node['where_clause']) -%}
    {%- set allowed = ['COLUMN_REF', 'CONSTANT', 'COMPARISON', 'CONJUNCTION', 'OPERATOR', 'FUNCTION', 'CASE', 'CAST', 'BETWEEN', 'TYPE'] -%}
    {%- set operators = ['+', '-', '*', '/', '%', '||', '~~', '!~~', '~~*', '!~~*', 'regexp_full_match'] -%}
    {%- set refused = [] -%}
    {%- for kind in modules.re.findall('"(?:class|type)": ?"([A-Z_]+)"', where) -%}
        {%- if kind in ['SUBQUERY', 'TABLE_FUNCTION', 'STAR', 'PARAMETER', 'LAMBDA', 'WINDOW', 'COLLATE'] and kind not in refused -%}
            {%- do refused.append(kind | lower) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for kind in modules.re.findall('"class": ?"([A-Z_]+)"', where) if kind not in allowed and kind | lower not in refused -%}
        {%- do refused.append(kind | lower) -%}
    {%- endfor -%}
    {%- for function in modules.re.findall('"function_name": ?"([^"]+)"', where)
        if function not in operators and function not in audience.predicate_functions() and function not in refused -%}
        {%- do refused.append(function) -%}
    {%- endfor -%}
    {%- for column in modules.re.findall('"column_names": ?\\[([^\\]]*)\\]', where)
        if (column | replace('"', '') | lower) not in columns and column not in refused -%}
        {%- do refused.append(column) -%}
    {%- endfor -%}
    {%- if refused -%}
        {{ return("not a plain expression over dim_customers columns (refused: " ~ refused | join(', ') ~ ")") }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
