-- One row per (buyer, category) bought as of the as-of date: item spend in USD
-- (quantity x unit_price x rate, exact) over items of counted orders. The category is
-- named here, once, by its segment name (SPEC section 5): the slug of the category, or
-- category_ + the first 8 hex digits of md5 of the trimmed category as landed when the
-- slug is empty; spend is summed per name (Home & Garden and home-garden are one
-- category). Items without a category are ignored. category_affinity and the
-- bought_category rule helper both read this model.
with counted_orders as (
    select * from {{ ref('int_orders_valued') }}
    where is_counted
),

items as (
    select
        order_id,
        quantity,
        unit_price,
        trim(product_category) as product_category
    from {{ ref('stg_shop__order_items') }}
    where trim(product_category) <> ''
),

spend_per_category as (
    select
        counted_orders.customer_id,
        items.product_category,
        -- Exact: decimal(38, ...) before multiplying (some engines keep the operands' width).
        sum(
            cast(items.quantity as decimal(38, 0))
            * cast(items.unit_price as decimal(38, 2))
            * counted_orders.rate_to_usd
        ) as spend_usd
    from items
    inner join counted_orders
        on items.order_id = counted_orders.order_id
    group by counted_orders.customer_id, items.product_category
),

-- Each category as landed (trimmed) once: the slug is computed per distinct value.
categories as (
    select
        product_category,
        {{ audience.slug('product_category') }} as slug
    from (select distinct product_category from spend_per_category) as distinct_categories
),

named as (
    select
        product_category,
        case
            when slug = '' then 'category_' || substr({{ dbt.hash('product_category') }}, 1, 8)
            else slug
        end as category
    from categories
),

final as (
    select
        spend_per_category.customer_id,
        named.category,
        cast(sum(spend_per_category.spend_usd) as decimal(38, 8)) as spend_usd
    from spend_per_category
    inner join named
        on spend_per_category.product_category = named.product_category
    group by spend_per_category.customer_id, named.category
)

select * from final
