{#- Raw data on Spark (issue 16): replace each raw table of schema `schema` with the rows
    of a Parquet file, `tables` mapping a table's name to its [column, type] pairs in
    contract order (Spark's types: string for VARCHAR). Called by audience.spark.load_raw
    through `dbt run-operation load_raw_from_parquet --target spark`, which writes the
    files from a DuckDB file first; the folder must be readable by Spark (on a cluster: a
    path every executor sees). Columns are cast to the contract's types on the way in. -#}
{% macro load_raw_from_parquet(folder, tables, schema='raw') -%}
    {%- do run_query('create schema if not exists ' ~ schema) -%}
    {%- for table, columns in tables.items() -%}
        {%- set relation = schema ~ '.' ~ table -%}
        {%- set ddl = [] -%}
        {%- set casts = [] -%}
        {%- for name, data_type in columns -%}
            {%- do ddl.append(name ~ ' ' ~ data_type) -%}
            {%- do casts.append('cast(' ~ name ~ ' as ' ~ data_type ~ ') as ' ~ name) -%}
        {%- endfor -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
        {%- do run_query('create table ' ~ relation ~ ' (' ~ ddl | join(', ') ~ ') using parquet') -%}
        {%- do run_query(
            'insert into ' ~ relation ~ ' select ' ~ casts | join(', ')
            ~ ' from parquet.`' ~ folder ~ '/' ~ table ~ '.parquet`'
        ) -%}
        {%- set counted = run_query('select count(*) from ' ~ relation) -%}
        {%- do log(relation ~ ': ' ~ counted.columns[0].values()[0] ~ ' rows', info=true) -%}
    {%- endfor -%}
{%- endmacro %}

{#- Seeds on Spark: dbt-spark's method `session` pastes each CSV value between quotes
    unescaped, so a value with a quote (Côte d'Ivoire) breaks the insert and an empty
    cell becomes the text 'None'. The same insert with literals written here: null for
    an empty cell, quotes and backslashes escaped; every value cast to its column type.
    (dbt looks up dbt's dispatched macros in the root project first.) -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(
                        col_name, adapter.convert_type(agate_table, loop.index0)
                    ) -%}
                    cast({{ audience.spark_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{#- A CSV value as a Spark SQL string literal (null when empty). -#}
{% macro spark_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ (value | string).replace("\\", "\\\\").replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
