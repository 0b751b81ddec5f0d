{#- On a raw table: no key has two rows tied for survivor under the version order
    of SPEC section 2 (an exact tie is resolved arbitrarily). Use at warn level.
    Rows can only tie when they share the key and every column of the version order,
    so only keys with such a repeated combination are ranked: one aggregate over the
    table instead of a sort of it. -#}
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
