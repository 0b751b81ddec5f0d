{#- Incremental models where data grows (issue 5).

    A base model classifies every raw row of its table by the rules on that table alone
    (the rules across tables are base_shop__cross_checked's, a table rebuilt whole). On an
    incremental run it reclassifies only the keys that may have changed: every key with a
    raw row landed after the cutoff (the newest _loaded_at already classified, less
    incremental_lookback_days, for rows landed late). It reclassifies all the raw rows of
    those keys, deletes the rows it held for them and inserts the new ones (delete+insert
    on dq_partition), so version numbers are computed over whole keys.
    Raw rows are assumed append-only, as an EL tool lands them; a raw table that is
    truncated or rewritten needs --full-refresh.

    dq_processed_at is when a row was last classified (the dbt run's start): downstream
    incremental models read the rows classified after their own newest one. -#}

{#- The key as delete+insert matches it: rows with a null key form one group, which is
    always reclassified whole (it can't be told apart otherwise; such rows are rare). -#}
{% macro dq_partition(key_columns) -%}
    coalesce({{ audience.dq_source_key(key_columns) }}, '')
{%- endmacro %}

{% macro dq_processed_at() -%}
    {{ audience.build_started_at() }}
{%- endmacro %}

{#- The build's start (dbt's run_started_at, UTC) as a timestamp literal (SPEC section
    2): never the database's clock. -#}
{% macro build_started_at() -%}
    cast('{{ run_started_at.astimezone(modules.pytz.utc).strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- The newest value of a timestamp column in this model, or a date before any data.
    Values after the build's start are a loader's clock error (a _loaded_at in the
    future) and never count: one such row must not hide every row landed after it. -#}
{% macro newest_in_this(column) -%}
    (
        select coalesce(max({{ column }}), cast('1900-01-01' as timestamp)) from {{ this }}
        where {{ column }} <= {{ audience.build_started_at() }}
    )
{%- endmacro %}

{% macro incremental_lookback_days() -%}
    {{ return(audience.number_var('incremental_lookback_days')) }}
{%- endmacro %}

{#- True for raw rows landed after the cutoff (or with no _loaded_at at all). -#}
{% macro landed_after_cutoff() -%}
    (
        _loaded_at > {{ dbt.dateadd('day', -audience.incremental_lookback_days(),
            audience.newest_in_this('_loaded_at')) }}
        or _loaded_at is null
    )
{%- endmacro %}

{#- Filter on a base model's raw source: on an incremental run, only the rows of keys
    to reclassify. -#}
{% macro keys_to_reclassify(source_relation, key_columns) -%}
    {%- set lookback_days = audience.incremental_lookback_days() -%}  {#- checked on every run -#}
    {%- if is_incremental() %}
    where {{ audience.dq_partition(key_columns) }} in (
        select {{ audience.dq_partition(key_columns) }} from {{ source_relation }}
        where {{ audience.landed_after_cutoff() }}
    )
    {%- endif -%}
{%- endmacro %}

{#- Rows classified (dq_processed_at) after this model's newest row. -#}
{% macro classified_since_this() -%}
    dq_processed_at > {{ audience.newest_in_this('dq_processed_at') }}
{%- endmacro %}

{#- Pre-hook of an incremental model over kept rows: delete its rows whose key was
    reclassified upstream (in the base model `classified`) since its newest row; the
    model then inserts the kept rows classified since (a key reclassified into
    superseded or rejected is gone). -#}
{% macro delete_reclassified(key_column, classified) -%}
    {%- if is_incremental() and audience.can_delete_rows() -%}
        delete from {{ this }}
        where {{ key_column }} in (
            select {{ key_column }} from {{ classified }}
            where {{ audience.classified_since_this() }}
        )
    {%- endif -%}
{%- endmacro %}

{#- Source freshness (loaded_at_query of every raw table): the newest _loaded_at up to
    the build's start; null (no data) when there is none. -#}
{% macro newest_load_before_build_start() -%}
    select max(_loaded_at) from {{ this }}
    where _loaded_at <= {{ audience.build_started_at() }}
{%- endmacro %}

{#- Engines without row-level deletes (Spark without Delta or Iceberg jars: its tables
    are Parquet files) keep the same results another way (issue 16):
    - models that delete the rows of reclassified keys (the base models, the identified
      email events) and the transitions are rebuilt whole, as tables;
    - models kept per date (history, performance, priority lists, outcomes) replace
      their date's partition (insert_overwrite, partitioned by the date column). -#}
{% macro can_delete_rows() -%}
    {{ return(adapter.dispatch('can_delete_rows', 'audience')()) }}
{%- endmacro %}

{% macro default__can_delete_rows() -%}
    {{ return(true) }}
{%- endmacro %}

{% macro spark__can_delete_rows() -%}
    {{ return(false) }}
{%- endmacro %}

{#- materialized= of a model kept incrementally by deleting rows, then inserting. -#}
{% macro incremental_by_delete() -%}
    {{ return('incremental' if audience.can_delete_rows() else 'table') }}
{%- endmacro %}

{#- incremental_strategy= and partition_by= of a model kept per date: append after the
    pre-hook's delete, or overwrite the date's partition. -#}
{% macro per_date_strategy() -%}
    {{ return('append' if audience.can_delete_rows() else 'insert_overwrite') }}
{%- endmacro %}

{% macro per_date_partition(date_column='as_of_date') -%}
    {{ return(none if audience.can_delete_rows() else [date_column]) }}
{%- endmacro %}

{#- The email events classified upstream (in `classified`, base_email__events: every
    version, kept or not, so a key whose events were reclassified away is among them)
    since this model last ran: campaign, customer, and whether the event changes the
    customer's state. int_email_campaign_pairs recomputes the pairs among them and every
    pair of a customer whose state they change (its state at a first send may move);
    int_email_customers_summarised recomputes their customers. -#}
{% macro reclassified_email_events(classified) -%}
    select
        campaign_id,
        {{ dbt.hash('email') }} as customer_id,
        event_type in ('subscribe', 'unsubscribe', 'complaint', 'bounce') as changes_state
    from {{ classified }}
    where {{ audience.classified_since_this() }}
{%- endmacro %}

{#- True for a row (campaign_id, customer_id) of such a pair. -#}
{% macro is_reclassified_pair(classified) -%}
    (
        (campaign_id, customer_id) in (
            select campaign_id, customer_id
            from ({{ audience.reclassified_email_events(classified) }}) as reclassified
            where campaign_id is not null
        )
        or customer_id in (
            select customer_id
            from ({{ audience.reclassified_email_events(classified) }}) as reclassified
            where changes_state
        )
    )
{%- endmacro %}

{#- Pre-hook of int_email_campaign_pairs: delete the pairs it will recompute. Its rows
    carry the run that computed them, so when this deletes every row of the newest run,
    the model's own query reads the events since an earlier run: their pairs are all
    deleted too (each was computed by a run no older than the newest left). -#}
{% macro delete_reclassified_pairs(classified) -%}
    {%- if is_incremental() and audience.can_delete_rows() -%}
        delete from {{ this }}
        where {{ audience.is_reclassified_pair(classified) }}
    {%- endif -%}
{%- endmacro %}

{#- int_email_customers_summarised on an incremental run: the customers with an email
    event classified upstream since it last ran (every version, kept or not). -#}
{% macro reclassified_email_customers(classified) -%}
    select reclassified.customer_id
    from ({{ audience.reclassified_email_events(classified) }}) as reclassified
{%- endmacro %}

{#- Pre-hook of int_email_customers_summarised: delete the customers it will recompute
    (the same argument as for the pairs holds when this empties the newest run). -#}
{% macro delete_reclassified_customers(classified) -%}
    {%- if is_incremental() and audience.can_delete_rows() -%}
        delete from {{ this }}
        where customer_id in (
            {{ audience.reclassified_email_customers(classified) }}
        )
    {%- endif -%}
{%- endmacro %}

{#- Written between `with <cte> as` and the body of a CTE that reads a large table and
    is read more than once (a base model's `source`). On a full build it is the whole
    table, and DuckDB would copy it before reading it (43 M events at profile L:
    base_email__events took 66 s instead of 38 s), so it is read in place (PostgreSQL
    takes the same hint; Spark inlines CTEs anyway). On an incremental run it is the few
    rows a run reclassifies, found by a scan, so it is kept once. -#}
{% macro inline_on_full_build() -%}
    {%- if is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('inline_on_full_build', 'audience')()) }}
{%- endmacro %}

{% macro default__inline_on_full_build() -%}
    {{ return('not materialized') }}
{%- endmacro %}

{% macro spark__inline_on_full_build() -%}
    {{ return('') }}
{%- endmacro %}
