-- Per customer, from email events on or before the as-of date: subscribed or
-- suppressed, and the email_engagement segment. Suppressed when the latest
-- unsubscribe, complaint or hard bounce is at or after the latest subscribe (or there
-- is no subscribe); subscribed when there is a subscribe and no suppression. Events
-- are never after the as-of date, so day counts are never negative.
{%- set engagement_window_days = audience.number_var('engagement_window_days') %}
{%- set new_subscriber_days = audience.number_var('new_subscriber_days') %}
with customers as (
    select * from {{ ref('int_customers_unified') }}
),

email_customers as (
    select * from {{ ref('int_email_customers_as_of') }}
),

per_customer as (
    select
        customer_id,
        last_subscribed_at,
        last_suppressed_at,
        -- the later of the two (greatest skips a null on every engine this runs on)
        greatest(last_open_date, last_click_date) as last_engaged_date
    from email_customers
),

states as (
    select
        customers.customer_id,
        per_customer.last_subscribed_at,
        per_customer.last_suppressed_at,
        per_customer.last_engaged_date,
        {{ audience.is_suppressed(
            'per_customer.last_suppressed_at', 'per_customer.last_subscribed_at'
        ) }} as is_suppressed,
        {{ audience.days_before_as_of('per_customer.last_engaged_date') }} as days_since_engaged,
        {{ audience.days_before_as_of(audience.to_date('per_customer.last_subscribed_at')) }}
            as days_since_subscribed
    from customers
    left join per_customer
        on customers.customer_id = per_customer.customer_id
),

final as (
    select
        customer_id,
        case
            when is_suppressed then 'suppressed'
            when last_subscribed_at is null then 'not_subscribed'
            when days_since_engaged < {{ engagement_window_days }} then 'engaged'
            when days_since_subscribed < {{ new_subscriber_days }} then 'new_subscriber'
            else 'unengaged'
        end as email_engagement,
        last_subscribed_at is not null and not is_suppressed as is_subscribed,
        is_suppressed,
        last_engaged_date,
        last_subscribed_at,
        last_suppressed_at
    from states
)

select * from final
