-- RFM of buyers (SPEC section 4): recency, frequency and monetary over counted orders
-- (all history, or the last rfm_window_days), rank-based 1-5 scores, the cell, the
-- segment from the rfm_segment_map seed, and the value tier.
with counted_orders as (
    select * from {{ ref('int_orders_valued') }}
    where is_counted and {{ audience.in_rfm_window('order_date') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

measured as (
    select
        customer_id,
        {{ audience.days_before_as_of('max(order_date)') }} as recency_days,
        count(*) as frequency,
        cast(sum(net_revenue_usd) as decimal(38, 2)) as monetary
    from counted_orders
    group by customer_id
),

scored as (
    select
        customer_id,
        recency_days,
        frequency,
        monetary,
        {{ audience.score_1_to_5('recency_days desc') }} as r_score,
        {{ audience.score_1_to_5('frequency asc') }} as f_score,
        {{ audience.score_1_to_5('monetary asc') }} as m_score
    from measured
),

final as (
    select
        scored.customer_id,
        scored.recency_days,
        scored.frequency,
        scored.monetary,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        {{ dbt.concat([
            dbt.cast('scored.r_score', dbt.type_string()),
            dbt.cast('scored.f_score', dbt.type_string()),
            dbt.cast('scored.m_score', dbt.type_string()),
        ]) }} as rfm_cell,
        segment_map.rfm_segment,
        case
            when scored.m_score = 5 then 'high'
            when scored.m_score >= 3 then 'mid'
            else 'low'
        end as value_tier
    from scored
    left join segment_map
        on
            scored.r_score = segment_map.r_score
            and scored.f_score = segment_map.f_score
)

select * from final
