{#- On a raw table: the keys with two rows tied for survivor on the version columns of
    SPEC section 2 (an exact tie). The tie is broken deterministically by the table's
    other columns (dq_tie_breakers), so the build keeps the same row every time, but
    such a key usually means a loader delivered two different rows at the same instant:
    worth a look. Use at warn level. Rows can only tie when they share the key and
    every version column, so only keys with such a repeated combination are ranked: one
    aggregate over the table instead of a sort of it. -#}
{% test survivor_is_unambiguous(model, key_columns, kind) %}

{%- set keys = key_columns | join(', ') %}

with equal_versions as (
    select {{ keys }}
    from {{ model }}
    where not {{ audience.dq_key_is_null(key_columns) }}
    group by {{ keys }}, {{ audience.dq_version_columns(kind) | join(', ') }}
    having count(*) > 1
),

keys_with_equal_versions as (
    select distinct {{ keys }} from equal_versions
),

ranked as (
    select
        {{ keys }},
        rank() over (
            partition by {{ keys }}
            order by {{ audience.dq_version_order(kind) }}
        ) as version_rank
    from {{ model }}
    inner join keys_with_equal_versions using ({{ keys }})
)

select
    {{ keys }},
    count(*) as tied_rows
from ranked
where version_rank = 1
group by {{ keys }}
having count(*) > 1

{% endtest %}
