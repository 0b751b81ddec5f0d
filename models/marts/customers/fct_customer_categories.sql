-- One row per (customer, category bought) as of the as-of date: item spend in USD over
-- items of counted orders, categories named as category_affinity names them. What the
-- rule helper bought_category('…') reads, in the build and in preview.
with categories_bought as (
    select * from {{ ref('int_customers_categories_bought') }}
),

final as (
    select
        {{ audience.as_of_date() }} as as_of_date,
        customer_id,
        category,
        spend_usd
    from categories_bought
)

select * from final
