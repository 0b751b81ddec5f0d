{#- On a raw table: no key has two rows tied for survivor under the version order
    of SPEC section 2 (an exact tie is resolved arbitrarily). Use at warn level. -#}
{% test survivor_is_unambiguous(model, key_columns, kind) %}

with ranked as (
    select
        {{ key_columns | join(', ') }},
        rank() over (
            partition by {{ key_columns | join(', ') }}
            order by {{ audience.dq_version_order(kind) }}
        ) as version_rank
    from {{ model }}
    where not {{ audience.dq_key_is_null(key_columns) }}
)

select
    {{ key_columns | join(', ') }},
    count(*) as tied_rows
from ranked
where version_rank = 1
group by {{ key_columns | join(', ') }}
having count(*) > 1

{% endtest %}
