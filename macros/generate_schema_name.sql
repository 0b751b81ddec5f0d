{#- Models build into schemas named exactly as configured (staging, intermediate,
    marts, seeds), never prefixed with the target schema (SPEC section 8).

    On a server warehouse (any target whose type is not duckdb: postgres, spark,
    spark_thrift), working and published
    relations share one database, and readers use schema marts: dbt must never write
    there, or a reader would see half a build. The mart models build into the working
    schema marts_working instead, and publishing (python -m audience run --target
    postgres, audience/publish_postgres.py) copies them into marts in one transaction.
    On DuckDB the working database is its own file, so the marts keep schema marts
    there and publishing copies the whole schema into the published file.

    Every other target (dev and ci in profiles.yml, or one a developer adds) prefixes
    the names with its own schema: dev_staging, dev_intermediate, dev_marts, dev_seeds.
    So a development or CI build never replaces the relations of the main command, on
    DuckDB or on a server warehouse, and the readers' schema marts stays out of reach. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.name not in ('duckdb', 'postgres', 'spark', 'spark_thrift') -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- elif custom_schema_name | trim == 'marts' and target.type != 'duckdb' -%}
        marts_working
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
