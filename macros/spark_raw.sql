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
