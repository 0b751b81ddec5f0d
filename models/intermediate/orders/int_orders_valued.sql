-- Kept orders placed on or before the as-of date: who placed them (the email staging
-- identified them by: their own valid email, else their shop customer's) and their net
-- revenue in USD.
with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

refunds as (
    select * from {{ ref('stg_shop__refunds') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

refunds_to_date as (
    select
        order_id,
        sum(amount) as refunded_amount
    from refunds
    where {{ audience.on_or_before_as_of(audience.to_date('refunded_at')) }}
    group by order_id
),

identified as (
    select
        orders.order_id,
        orders.customer_id as shop_customer_id,
        orders.identified_email as email,
        orders.status,
        orders.currency_code,
        orders.total_amount,
        orders.discount_amount,
        orders.ordered_at
    from orders
    where {{ audience.on_or_before_as_of(audience.to_date('orders.ordered_at')) }}
),

valued as (
    select
        identified.*,
        coalesce(refunds_to_date.refunded_amount, 0) as refunded_amount,
        currency_rates.rate_to_usd,
        -- decimal(38, 2) before multiplying: some engines keep the operands' width.
        case
            when
                (identified.total_amount - coalesce(refunds_to_date.refunded_amount, 0)) > 0
                then round(
                    cast(
                        identified.total_amount - coalesce(refunds_to_date.refunded_amount, 0)
                        as decimal(38, 2)
                    )
                    * currency_rates.rate_to_usd,
                    2
                )
            else 0
        end as net_revenue_usd
    from identified
    inner join currency_rates
        on identified.currency_code = currency_rates.currency_code
    left join refunds_to_date
        on identified.order_id = refunds_to_date.order_id
),

final as (
    select
        order_id,
        {{ dbt.hash('email') }} as customer_id,
        shop_customer_id,
        email,
        status,
        currency_code,
        total_amount,
        discount_amount,
        cast(refunded_amount as decimal(38, 2)) as refunded_amount,
        rate_to_usd,
        cast(net_revenue_usd as decimal(38, 2)) as net_revenue_usd,
        coalesce(status = 'completed' and net_revenue_usd > 0, false) as is_counted,
        coalesce(discount_amount > 0, false) as has_discount,
        {{ audience.to_date('ordered_at') }} as order_date,
        ordered_at
    from valued
)

select * from final
