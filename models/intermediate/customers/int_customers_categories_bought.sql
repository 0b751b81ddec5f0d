-- One row per (buyer, category) bought as of the as-of date: item spend in USD
-- (quantity x unit_price x rate, exact) over items of counted orders. The category is
-- named by its segment name here, once: category_affinity and the bought_category rule
-- helper both read this model. Items without a category are ignored.
with counted_orders as (
    select * from {{ ref('int_orders_valued') }}
    where is_counted
),

items as (
    select * from {{ ref('stg_shop__order_items') }}
    where product_category is not null
),

final as (
    select
        counted_orders.customer_id,
        items.product_category as category,
        sum(items.quantity * items.unit_price * counted_orders.rate_to_usd) as spend_usd
    from items
    inner join counted_orders
        on items.order_id = counted_orders.order_id
    group by counted_orders.customer_id, items.product_category
)

select * from final
