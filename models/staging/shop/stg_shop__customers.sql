-- Shop customers: one row per customer, its surviving version.
with classified as (
    select * from {{ ref('base_shop__customers') }}
),

final as (
    select
        customer_id,
        email,
        first_name,
        last_name,
        country,
        has_valid_email,
        created_at,
        updated_at,
        _loaded_at
    from classified
    where dq_status = 'kept'
)

select * from final
