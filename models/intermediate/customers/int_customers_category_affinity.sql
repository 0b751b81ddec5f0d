-- Per buyer: the product category with the most item spend in USD (quantity x
-- unit_price x rate, exact) over items of counted orders; items without a category
-- are ignored; ties go to the alphabetically first category.
with counted_orders as (
    select * from {{ ref('int_orders_valued') }}
    where is_counted
),

items as (
    select * from {{ ref('stg_shop__order_items') }}
    where product_category is not null
),

spend as (
    select
        counted_orders.customer_id,
        items.product_category,
        -- Exact: decimal(38, ...) before multiplying (some engines keep the operands' width).
        cast(
            sum(
                cast(items.quantity as decimal(38, 0))
                * cast(items.unit_price as decimal(38, 2))
                * counted_orders.rate_to_usd
            ) as decimal(38, 8)
        ) as spend_usd
    from items
    inner join counted_orders
        on items.order_id = counted_orders.order_id
    group by counted_orders.customer_id, items.product_category
),

ranked as (
    select
        customer_id,
        product_category,
        spend_usd,
        row_number() over (
            partition by customer_id
            order by spend_usd desc nulls last, product_category asc
        ) as category_rank
    from spend
),

final as (
    select
        customer_id,
        product_category as category_affinity,
        spend_usd as category_spend_usd
    from ranked
    where category_rank = 1
)

select * from final
