{#- Pre-hook of the models kept per as-of date: on an incremental run, delete the rows
    this run recomputes (its own as-of date, and with next_date_in also the next date
    present there), so that re-running a date replaces it and nothing else. Where rows
    cannot be deleted (Spark), the model overwrites its date's partition instead. -#}
{% macro delete_as_of_rows(next_date_in=none) -%}
    {%- if is_incremental() and audience.can_delete_rows() -%}
        delete from {{ this }}
        where
            as_of_date = {{ audience.as_of_date() }}
            {%- if next_date_in is not none %}
                or as_of_date = (
                    select min(as_of_date) from {{ next_date_in }}
                    where as_of_date > {{ audience.as_of_date() }}
                )
            {%- endif %}
    {%- endif -%}
{%- endmacro %}
