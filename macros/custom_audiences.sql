{#- The custom audiences of var custom_audiences, validated: each has a name equal to its
    slug (unique), a description and a SQL predicate over the columns of dim_customers and
    dim_customer_features, with the rule helpers of predicate_helpers(). A mistake fails
    the compilation with a message naming the audience. The predicates are checked
    (check_custom_predicate) unless check is false (readers of the names only). -#}

{% macro custom_audiences(check=true) -%}
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
        {%- if execute and check -%}
            {{ audience.check_custom_predicate(name, custom.get('predicate') | string) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(audiences) }}
{%- endmacro %}

{#- Model-based audiences: every model of this project tagged `audience` (the folder
    models/audiences/, dbt_project.yml), found in the graph at execution: name (which must
    equal its slug and differ from every custom audience of var custom_audiences),
    description and meta.owner from its YAML, and its path. Each must document a
    customer_id column. dbt's parser has no graph, so the memberships model declares its
    dependencies from var audience_models (audience_model_dependencies); the two must name
    the same models, or the compilation fails saying which to add. -#}
{% macro custom_audience_models() -%}
    {%- set found = [] -%}
    {%- if not execute -%}
        {{ return(found) }}
    {%- endif -%}
    {%- set declared = audience.declared_audience_models() -%}
    {%- set configured = [] -%}
    {%- for custom in var('custom_audiences', []) or [] if custom is mapping -%}
        {%- do configured.append(custom.get('name')) -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values() | sort(attribute='name')
        if node.resource_type == 'model' and node.package_name == project_name and 'audience' in node.tags -%}
        {%- set label = "audience model '" ~ node.name ~ "' (" ~ node.original_file_path ~ ")" -%}
        {%- if not audience.is_slug(node.name) -%}
            {{ exceptions.raise_compiler_error(label ~ ": its name must equal its slug (lowercase a-z and 0-9 words joined by single '_')") }}
        {%- endif -%}
        {%- if node.name in configured -%}
            {{ exceptions.raise_compiler_error(label ~ ": a custom audience of var custom_audiences has the same name; rename one") }}
        {%- endif -%}
        {%- if node.name not in declared -%}
            {{ exceptions.raise_compiler_error(label ~ " is not in var audience_models: add it there, so dbt builds it before int_segment_memberships_grouped") }}
        {%- endif -%}
        {%- if 'customer_id' not in node.columns -%}
            {{ exceptions.raise_compiler_error(label ~ ": an audience model selects customer_id; document that column in its YAML") }}
        {%- endif -%}
        {%- do found.append({
            'name': node.name,
            'description': node.description,
            'owner': (node.config.get('meta') or {}).get('owner') or (node.meta or {}).get('owner'),
            'path': node.original_file_path,
        }) -%}
    {%- endfor -%}
    {%- set names = found | map(attribute='name') | list -%}
    {%- for name in declared if name not in names -%}
        {{ exceptions.raise_compiler_error("var audience_models names '" ~ name ~ "', which is no model tagged audience (models/audiences/)") }}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- The names of var audience_models: the audience models, named for dbt's parser. -#}
{% macro declared_audience_models() -%}
    {%- set names = var('audience_models', []) or [] -%}
    {%- if names is string or names is mapping -%}
        {{ exceptions.raise_compiler_error("var audience_models must be a list of model names (the models of models/audiences/)") }}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{#- Declares the audience models of var audience_models as parents of the calling model
    (dbt's parser records each ref() call); renders one comment per model. -#}
{% macro audience_model_dependencies() -%}
    {%- for name in audience.declared_audience_models() %}
-- depends_on: {{ ref(name) }}
    {%- endfor %}
{%- endmacro %}

{#- Membership rows of the custom family (registry entry with source: custom_audiences):
    one branch per audience of var custom_audiences (its predicate over audience_base(),
    helpers expanded) and per audience model; an empty typed select when there is none. -#}
{% macro custom_family_memberships(family_name) -%}
    {%- set branches = [] -%}
    {%- for custom in audience.custom_audiences() -%}
        {%- do branches.append(
            "select audience_base.customer_id, '" ~ family_name ~ "' as segment_family, '"
            ~ custom['name'] ~ "' as segment\n    from " ~ audience.audience_base() ~ " as audience_base\n    where coalesce(("
            ~ audience.predicate_helpers_expanded(custom['name'], custom['predicate'] | string)['sql'] ~ "), false)") -%}
    {%- endfor -%}
    {%- for model in audience.custom_audience_models() -%}
        {%- do branches.append(
            "select distinct customer_id, '" ~ family_name ~ "' as segment_family, '" ~ model['name']
            ~ "' as segment\n    from " ~ ref(model['name'])) -%}
    {%- endfor -%}
    {%- if not branches -%}
        {%- do branches.append(
            "select " ~ dbt.cast('null', dbt.type_string()) ~ " as customer_id, '" ~ family_name
            ~ "' as segment_family, " ~ dbt.cast('null', dbt.type_string()) ~ " as segment\n    where 1 = 0") -%}
    {%- endif %}
    {{ branches | join('\n    union all\n    ') }}
{%- endmacro %}

{#- What a predicate reads, as a parenthesised relation: dim_customers with the columns of
    dim_customer_features it does not have (known at execution, from the graph). -#}
{% macro audience_base() -%}
    (
        select
            customers.*
            {%- for column in audience.feature_only_columns() %},
            features.{{ column }}
            {%- endfor %}
        from {{ ref('dim_customers') }} as customers
        left join {{ ref('dim_customer_features') }} as features
            on customers.customer_id = features.customer_id
    )
{%- endmacro %}

{#- Columns of dim_customer_features that dim_customers does not have. -#}
{% macro feature_only_columns() -%}
    {%- set customer_columns = audience.model_columns('dim_customers') -%}
    {{ return(audience.model_columns('dim_customer_features') | reject('in', customer_columns) | list) }}
{%- endmacro %}

{#- The columns a predicate may name: dim_customers', then dim_customer_features' others. -#}
{% macro predicate_columns() -%}
    {{ return(audience.model_columns('dim_customers') + audience.feature_only_columns()) }}
{%- endmacro %}

{#- Rule helpers a predicate may call, each with its arguments, all quoted literals:
      has_tag('trade_show'): a live CRM tag (the crm_tag segment of that name);
      bought_category('beauty'): a category bought in a counted order (as category_affinity
        names it);
      in_segment('behaviour', 'vip'): a member of that segment of a registry family (not
        the custom family, whose audiences are built together).
    The user's text is validated with each call replaced by `true` (so a subquery the user
    writes is refused as before); the project then expands the calls into
    `customer_id in (select customer_id from <model> where ...)` or a column comparison.
    audience/preview.py mirrors this (HELPERS, expand_helpers). -#}
{% macro predicate_helpers() -%}
    {{ return({'has_tag': 1, 'bought_category': 1, 'in_segment': 2}) }}
{%- endmacro %}

{#- {'checked': the predicate with every helper call replaced by true, 'sql': with every
    call expanded}. A helper called with anything but quoted segment names fails the
    compilation naming the audience. -#}
{% macro predicate_helpers_expanded(name, predicate) -%}
    {%- set literal = "'(?:[^']|'')*'" -%}
    {%- set pattern = "(?i)" ~ literal
        ~ "|(?<![.\\w])(has_tag|bought_category)\\s*\\(\\s*(" ~ literal ~ ")\\s*\\)"
        ~ "|(?<![.\\w])(in_segment)\\s*\\(\\s*(" ~ literal ~ ")\\s*,\\s*(" ~ literal ~ ")\\s*\\)"
        ~ "|(?<![.\\w])(has_tag|bought_category|in_segment)\\s*\\(" -%}
    {%- set state = {'last': 0, 'checked': [], 'sql': []} -%}
    {%- set families = audience.segment_families() -%}
    {%- for match in modules.re.finditer(pattern, predicate) -%}
        {%- set before = predicate[state['last']:match.start()] -%}
        {%- do state['checked'].append(before) -%}
        {%- do state['sql'].append(before) -%}
        {%- do state.update({'last': match.end()}) -%}
        {%- if match.group(6) -%}
            {{ exceptions.raise_compiler_error("custom audience '" ~ name ~ "': helper " ~ match.group(6) | lower
                ~ " takes quoted segment names only, e.g. has_tag('trade_show'), bought_category('beauty'), "
                ~ "in_segment('behaviour', 'vip'), in predicate: " ~ predicate) }}
        {%- elif match.group(1) or match.group(3) -%}
            {%- set helper = (match.group(1) or match.group(3)) | lower -%}
            {%- set values = [] -%}
            {%- for raw in [match.group(2), match.group(4), match.group(5)] if raw -%}
                {%- set value = raw[1:-1] | replace("''", "'") -%}
                {%- if not audience.is_slug(value) -%}
                    {{ exceptions.raise_compiler_error("custom audience '" ~ name ~ "': " ~ helper ~ " takes segment names "
                        ~ "(lowercase a-z and 0-9 words joined by single '_'), got " ~ raw ~ " in predicate: " ~ predicate) }}
                {%- endif -%}
                {%- do values.append(value) -%}
            {%- endfor -%}
            {%- if helper == 'bought_category' -%}
                {%- set expanded = "customer_id in (select customer_id from " ~ ref('fct_customer_categories')
                    ~ " where category = '" ~ values[0] ~ "')" -%}
            {%- else -%}
                {%- set family_name, segment = ('crm_tag', values[0]) if helper == 'has_tag' else (values[0], values[1]) -%}
                {%- set family = families.get(family_name) -%}
                {%- if family is none or family.get('source') -%}
                    {{ exceptions.raise_compiler_error("custom audience '" ~ name ~ "': " ~ helper ~ " reads a segment family of var "
                        ~ "segment_families other than the custom one; '" ~ family_name ~ "' is not one (families: "
                        ~ families.keys() | reject('in', audience.families_with_source()) | join(', ') ~ "), in predicate: " ~ predicate) }}
                {%- elif family.get('column') -%}
                    {%- set expanded = "coalesce(" ~ family['column'] ~ " = '" ~ segment ~ "', false)" -%}
                {%- else -%}
                    {%- set expanded = "customer_id in (select customer_id from " ~ ref(family['model'])
                        ~ " where segment = '" ~ segment ~ "')" -%}
                {%- endif -%}
            {%- endif -%}
            {%- do state['checked'].append('true') -%}
            {%- do state['sql'].append('(' ~ expanded ~ ')') -%}
        {%- else -%}
            {%- do state['checked'].append(match.group(0)) -%}
            {%- do state['sql'].append(match.group(0)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do state['checked'].append(predicate[state['last']:]) -%}
    {%- do state['sql'].append(predicate[state['last']:]) -%}
    {{ return({'checked': state['checked'] | join(''), 'sql': state['sql'] | join('')}) }}
{%- endmacro %}

{#- The registry's families made by a source (the custom family). -#}
{% macro families_with_source() -%}
    {%- set names = [] -%}
    {%- for family_name, family in audience.segment_families().items() if family.get('source') -%}
        {%- do names.append(family_name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- Fails, naming the audience, unless the predicate is a plain expression over the
    columns of dim_customers and dim_customer_features (predicate_columns) with rule
    helpers: only the SQL words of predicate_words(), the scalar functions of
    predicate_functions(), columns, literals, operators and helper calls with quoted
    segment names. The rules read the user's text with each helper call replaced by
    `true`: subqueries, table functions, file or network access and a second statement
    are refused on every engine by the word rules; DuckDB also parses the predicate with
    its own parser and refuses any node that is not a plain expression. Then a trial query
    (limit 0) of the expanded predicate on the real relations checks that the engine
    accepts it. -#}
{% macro check_custom_predicate(name, predicate) -%}
    {%- set columns = audience.predicate_columns() -%}
    {%- set helpers = audience.predicate_helpers_expanded(name, predicate) -%}
    {%- set refusal = audience.predicate_word_error(helpers['checked'], columns) -%}
    {%- if not refusal -%}
        {%- set refusal = audience.predicate_structure_error(helpers['checked'], columns) -%}
    {%- endif -%}
    {%- if refusal -%}
        {{ exceptions.raise_compiler_error("custom audience '" ~ name ~ "': " ~ refusal ~ " in predicate: " ~ predicate) }}
    {%- endif -%}
    {%- set trial = "select 1 as ok from " ~ audience.audience_base() ~ " as audience_base where ("
        ~ helpers['sql'] ~ ") limit 0" -%}
    {%- set features = ref('dim_customer_features') -%}
    {%- if adapter.get_relation(database=features.database, schema=features.schema, identifier=features.identifier) -%}
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
        {{ return("unknown column(s) " ~ unknown | join(', ') ~ ". Columns of dim_customers and dim_customer_features: " ~ columns | join(', ')) }}
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
