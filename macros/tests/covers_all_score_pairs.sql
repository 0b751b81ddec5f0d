{#- The RFM segment map has a row for each of the 25 (r_score, f_score) pairs. Returns
    each missing pair (repeats are caught by unique_combination_of_columns). -#}
{% test covers_all_score_pairs(model) %}

with scores as (
    select 1 as score
    union all select 2
    union all select 3
    union all select 4
    union all select 5
),

pairs as (
    select
        r_scores.score as r_score,
        f_scores.score as f_score
    from scores as r_scores
    cross join scores as f_scores
)

select pairs.*
from pairs
left join {{ model }} as segment_map
    on
        pairs.r_score = segment_map.r_score
        and pairs.f_score = segment_map.f_score
where segment_map.r_score is null

{% endtest %}
