-- One row per membership row: control or treatment. Control when the membership's
-- bucket (first 8 hex digits of md5(family.segment:customer_id), mod 100) is below
-- holdout_pct: stable across runs and engines.
with memberships as (
    select * from {{ ref('fct_segment_memberships') }}
),

final as (
    select
        as_of_date,
        customer_id,
        segment_family,
        segment,
        case
            when
                {{ audience.holdout_bucket("segment_family || '.' || segment", 'customer_id') }}
                < {{ audience.number_var('holdout_pct') }}
                then 'control'
            else 'treatment'
        end as holdout_group
    from memberships
)

select * from final
