{#- On a base model (every raw row with its version number, SPEC section 2): the keys
    whose survivor ties with another row on the version columns (an exact tie). The tie
    is broken deterministically by the table's other columns (dq_tie_breakers), so the
    build keeps the same row every time, but such a key usually means a loader delivered
    two different rows at the same instant: worth a look. Use at warn level.
    Versions are numbered in the order of the version columns first, so a survivor ties
    with some row exactly when it ties with the row numbered 2: only the rows of keys
    with a second version are kept (a semi-join, no sort or aggregate of the whole
    table), and tied_rows counts the survivor's equals, itself included. Keys are
    compared as dq_source_key (composite keys joined by ':'). -#}
{% test survivor_is_unambiguous(model, kind) %}

{%- set version_columns = audience.dq_version_columns(kind) %}

with contested as (
    select
        dq_source_key,
        dq_version_number,
        {{ version_columns | join(', ') }}
    from {{ model }}
    where dq_source_key in (
        select dq_source_key from {{ model }}
        where dq_version_number = 2
    )
),

survivors as (
    select * from contested
    where dq_version_number = 1
),

survivors_equals as (
    select contested.dq_source_key
    from contested
    inner join survivors
        on
            contested.dq_source_key = survivors.dq_source_key
            {%- for column in version_columns %}
            and {{ audience.equal_or_both_null('contested.' ~ column, 'survivors.' ~ column) }}
            {%- endfor %}
)

select
    dq_source_key,
    count(*) as tied_rows
from survivors_equals
group by dq_source_key
having count(*) > 1

{% endtest %}
