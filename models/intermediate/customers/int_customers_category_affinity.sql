-- Per buyer: the category with the most item spend in USD over items of counted orders
-- (int_customers_categories_bought, where categories are named); ties go to the
-- smallest name in byte order (SPEC section 5).
with categories_bought as (
    select * from {{ ref('int_customers_categories_bought') }}
),

ranked as (
    select
        customer_id,
        category,
        spend_usd,
        row_number() over (
            partition by customer_id
            order by spend_usd desc nulls last, {{ audience.byte_order('category') }} asc
        ) as category_rank
    from categories_bought
),

final as (
    select
        customer_id,
        category as category_affinity,
        spend_usd as category_spend_usd
    from ranked
    where category_rank = 1
)

select * from final
