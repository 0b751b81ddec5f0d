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

{#- The segment family registry (var segment_families, SPEC section 5), validated: the
    one declaration the memberships model, the tests, the catalogue and the tooling read.
    Each family is a name equal to its slug with
      exclusive, exhaustive: true / false (exhaustive needs exclusive and a population);
      population: customers (everyone), buyers (a counted order) or none;
    and exactly one way its segments are made:
      column: a dim_customers column holding the segment name (null = not in the family);
      model: a model with columns customer_id and segment (one row per membership);
      source: custom_audiences (the custom family: var custom_audiences and the models of
        models/audiences/, macro custom_audience_models).
    A mistake fails the compilation naming the family. -#}
{% macro segment_families() -%}
    {%- set families = var('segment_families') -%}
    {%- if families is not mapping or not families -%}
        {{ exceptions.raise_compiler_error("var segment_families must map each family name to {exclusive, exhaustive, population, column | model | source}") }}
    {%- endif -%}
    {%- set keys = ['exclusive', 'exhaustive', 'population', 'column', 'model', 'source'] -%}
    {%- for name, family in families.items() -%}
        {%- set label = "segment family '" ~ name ~ "' (var segment_families)" -%}
        {%- if not audience.is_slug(name) -%}
            {{ exceptions.raise_compiler_error(label ~ ": a family name must equal its slug (lowercase a-z and 0-9 words joined by single '_')") }}
        {%- endif -%}
        {%- if family is not mapping -%}
            {{ exceptions.raise_compiler_error(label ~ ": must be {exclusive, exhaustive, population, column | model | source}") }}
        {%- endif -%}
        {%- set unknown = family.keys() | reject('in', keys) | list -%}
        {%- if unknown -%}
            {{ exceptions.raise_compiler_error(label ~ ": unknown key(s) " ~ unknown | join(', ') ~ "; allowed: " ~ keys | join(', ')) }}
        {%- endif -%}
        {%- for key in ['exclusive', 'exhaustive'] if family.get(key) is not sameas true and family.get(key) is not sameas false -%}
            {{ exceptions.raise_compiler_error(label ~ ": " ~ key ~ " must be true or false") }}
        {%- endfor -%}
        {%- if family.get('population') not in ['customers', 'buyers', 'none'] -%}
            {{ exceptions.raise_compiler_error(label ~ ": population must be customers, buyers or none, got '" ~ family.get('population') ~ "'") }}
        {%- endif -%}
        {%- if family['exhaustive'] and (not family['exclusive'] or family['population'] == 'none') -%}
            {{ exceptions.raise_compiler_error(label ~ ": an exhaustive family must be exclusive and have a population") }}
        {%- endif -%}
        {%- set makers = ['column', 'model', 'source'] | select('in', family.keys()) | list -%}
        {%- if makers | length != 1 -%}
            {{ exceptions.raise_compiler_error(label ~ ": needs exactly one of column (a dim_customers column), model (a model with customer_id, segment) or source: custom_audiences") }}
        {%- endif -%}
        {%- set maker = family[makers[0]] -%}
        {%- if maker is not string or modules.re.match('^[a-z_][a-z0-9_]*$', maker) is none -%}
            {{ exceptions.raise_compiler_error(label ~ ": " ~ makers[0] ~ " must be a lowercase name, got '" ~ maker ~ "'") }}
        {%- endif -%}
        {%- if makers[0] == 'source' and maker != 'custom_audiences' -%}
            {{ exceptions.raise_compiler_error(label ~ ": the only source is custom_audiences, got '" ~ maker ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(families) }}
{%- endmacro %}

{#- Membership rows (customer_id, segment_family, segment) of a family made from a
    dim_customers column (read from the CTE `customers`) or from a rule model. Columns
    are checked against dim_customers' documented columns once the graph is known. -#}
{% macro family_memberships(name, family) -%}
    {%- if family.get('column') -%}
        {%- if execute -%}
            {%- set columns = audience.model_columns('dim_customers') -%}
            {%- if family['column'] not in columns -%}
                {{ exceptions.raise_compiler_error("segment family '" ~ name ~ "' (var segment_families): column '" ~ family['column'] ~ "' is not a column of dim_customers (" ~ columns | join(', ') ~ ")") }}
            {%- endif -%}
        {%- endif %}
    select
        customer_id,
        '{{ name }}' as segment_family,
        {{ family['column'] }} as segment
    from customers
    where {{ family['column'] }} is not null
    {%- else %}
    select
        customer_id,
        '{{ name }}' as segment_family,
        segment
    from {{ ref(family['model']) }}
    {%- endif %}
{%- endmacro %}

{#- The documented columns of a model of this project (lowercase), from the graph; only
    at execution, when the graph is known. -#}
{% macro model_columns(model_name) -%}
    {%- set columns = [] -%}
    {%- if not execute -%}
        {{ return(columns) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name -%}
        {%- for column in node.columns -%}{%- do columns.append(column | lower) -%}{%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- Families that put a customer in at most one segment (SPEC section 5). -#}
{% macro exclusive_families() -%}
    {{ return(audience.families_where('exclusive', true)) }}
{%- endmacro %}

{#- Families whose segments may share customers: the overlap matrix covers these. -#}
{% macro non_exclusive_families() -%}
    {{ return(audience.families_where('exclusive', false)) }}
{%- endmacro %}

{#- Families that put every customer of their population in exactly one segment. -#}
{% macro exhaustive_families() -%}
    {{ return(audience.families_where('exhaustive', true)) }}
{%- endmacro %}

{#- The names of the registry's families whose `key` equals `value`. -#}
{% macro families_where(key, value) -%}
    {%- set names = [] -%}
    {%- for name, family in audience.segment_families().items() if family[key] == value -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}
