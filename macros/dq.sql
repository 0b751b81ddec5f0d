{#- Deduplication and classification of raw rows (SPEC section 2).

    Every raw row gets a version number within its key: 1 is the survivor, higher
    numbers are superseded versions or re-deliveries. A row with a null key is no
    version of anything: it is number 1 and is rejected as missing_value. -#}

{#- The order in which versions of one key compete; the first row wins.
    entity: latest updated_at (null counts as oldest), then latest _loaded_at.
    event:  earliest _loaded_at (a repeated key is a re-delivery). -#}
{% macro dq_version_order(kind) -%}
    {%- set direction = 'desc' if kind == 'entity' else 'asc' -%}
    {%- for column in audience.dq_version_columns(kind) -%}
        {{ column }} {{ direction }} nulls last{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- The columns dq_version_order sorts on: rows equal on the key and on these tie. -#}
{% macro dq_version_columns(kind) -%}
    {%- if kind == 'entity' -%}
        {{ return(['updated_at', '_loaded_at']) }}
    {%- elif kind == 'event' -%}
        {{ return(['_loaded_at']) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("dq version kind must be 'entity' or 'event', got '" ~ kind ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- Any key column null means the row has no key. -#}
{% macro dq_key_is_null(key_columns) -%}
    ({%- for column in key_columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor -%})
{%- endmacro %}

{#- Two values equal, nulls equal to each other (a null-safe comparison written the
    same on every engine). -#}
{% macro equal_or_both_null(left, right) -%}
    ({{ left }} = {{ right }} or ({{ left }} is null and {{ right }} is null))
{%- endmacro %}

{#- Exact ties on the version columns are broken by the raw table's other columns in
    the order of SPEC section 1 (the order of its columns in the sources YAML, each with
    its data_type), ascending, nulls last, strings as landed compared byte by byte; the
    first wins. So every build of the same raw data keeps the same row, full or
    incremental, on any engine. Columns are compared as landed, before any
    normalisation. -#}
{% macro dq_tie_breakers(source_table, key_columns, kind) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set tables = [] -%}
    {%- for node in graph.sources.values() if node.name == source_table -%}
        {%- do tables.append(node) -%}
    {%- endfor -%}
    {%- if tables | length != 1 -%}
        {{ exceptions.raise_compiler_error("dq: raw table '" ~ source_table ~ "' must be declared once among the sources, found " ~ tables | length) }}
    {%- endif -%}
    {%- set version_columns = key_columns + audience.dq_version_columns(kind) -%}
    {%- set order = [] -%}
    {%- for column in tables[0].columns.values() if column.name not in version_columns -%}
        {%- set data_type = (column.data_type or '') | lower -%}
        {%- if data_type == '' -%}
            {{ exceptions.raise_compiler_error("dq: column " ~ source_table ~ "." ~ column.name ~ " needs a data_type in the sources YAML (it breaks ties)") }}
        {%- endif -%}
        {%- set expression = column.name -%}
        {%- if data_type.startswith('varchar') or data_type in ('text', 'string') -%}
            {%- set expression = audience.byte_order(expression) -%}
        {%- endif -%}
        {%- do order.append(expression ~ ' asc nulls last') -%}
    {%- endfor -%}
    {{ return(order) }}
{%- endmacro %}

{#- The keys landed more than once among the rows of the CTE `source`. -#}
{% macro dq_repeated_keys(source, key_columns) -%}
    select {{ key_columns | join(', ') }}
    from {{ source }}
    where not {{ audience.dq_key_is_null(key_columns) }}
    group by {{ key_columns | join(', ') }}
    having count(*) > 1
{%- endmacro %}

{#- Every row of the CTE `source` (the raw rows of `source_table`, as landed) with
    dq_version_number, its version number within its key. Only the keys in the CTE
    `repeated_keys` (dq_repeated_keys) go through the window that numbers versions;
    every other row is number 1. At profile L that sorts 1.8 M rows of 847 k repeated
    event ids instead of all 43 M events (DECISIONS.md, "Only repeated keys are
    numbered"). -#}
{% macro dq_numbered(source, repeated_keys, key_columns, kind, source_table) -%}
    {%- set is_repeated -%}
        exists (
            select 1
            from {{ repeated_keys }}
            where
            {%- for column in key_columns %}
                {{ repeated_keys }}.{{ column }} = landed.{{ column }}{% if not loop.last %} and{% endif %}
            {%- endfor %}
        )
    {%- endset -%}
    select
        landed.*,
        cast(1 as {{ dbt.type_bigint() }}) as dq_version_number
    from {{ source }} as landed
    where not {{ is_repeated }}
    union all
    select
        landed.*,
        row_number() over (
            partition by {{ key_columns | join(', ') }}
            order by
                {{ audience.dq_version_order(kind) }}
                {%- for tie_breaker in audience.dq_tie_breakers(source_table, key_columns, kind) %},
                {{ tie_breaker }}
                {%- endfor %}
        ) as dq_version_number
    from {{ source }} as landed
    where {{ is_repeated }}
{%- endmacro %}

{#- The key as text (raw keys are VARCHAR), as dq_rejected_rows reports it:
    composite keys joined by ':'. -#}
{% macro dq_source_key(key_columns) -%}
    {%- for column in key_columns -%}
        {{ column }}{% if not loop.last %} || ':' || {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- Final status of a row from its version number and its reject reason. -#}
{% macro dq_status(version_column='dq_version_number', reason_column='dq_reject_reason') -%}
    case
        when {{ version_column }} > 1 then 'superseded'
        when {{ reason_column }} is not null then 'rejected'
        else 'kept'
    end
{%- endmacro %}

{#- The raw tables of SPEC section 1 and the base model that classifies each. -#}
{% macro dq_base_models() -%}
    {{ return({
        'crm_accounts': 'base_crm__accounts',
        'crm_contacts': 'base_crm__contacts',
        'crm_contact_tags': 'base_crm__contact_tags',
        'email_campaigns': 'base_email__campaigns',
        'email_events': 'base_email__events',
        'shop_customers': 'base_shop__customers',
        'shop_orders': 'base_shop__orders',
        'shop_order_items': 'base_shop__order_items',
        'shop_refunds': 'base_shop__refunds',
        'shop_checkouts': 'base_shop__checkouts',
    }) }}
{%- endmacro %}
