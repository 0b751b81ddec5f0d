{#- Configured pairs of audiences ('family.segment'; default var distinct_audience_pairs)
    whose overlap reaches the share of the smaller one they must stay under (default var
    max_audience_overlap_share). A pair naming an unknown or exclusive family fails the
    compilation: the overlap matrix only covers the non-exclusive ones. -#}
{% test audiences_stay_distinct(model, pairs=none, max_share=none) %}

{%- set pairs = var('distinct_audience_pairs', []) if pairs is none else pairs %}
{%- set max_share = audience.number_var('max_audience_overlap_share') if max_share is none else max_share %}
{%- set families = audience.non_exclusive_families() %}
{%- set checked = [] %}
{%- for pair in pairs %}
    {%- if pair is string or pair | length != 2 %}
        {{ exceptions.raise_compiler_error("var distinct_audience_pairs: each entry must be a list of two audiences as 'family.segment', got " ~ pair) }}
    {%- endif %}
    {%- set sides = [] %}
    {%- for audience_name in pair | sort %}
        {%- set parts = audience_name.split('.', 1) %}
        {%- if parts | length != 2 or parts[0] not in families %}
            {{ exceptions.raise_compiler_error("var distinct_audience_pairs: '" ~ audience_name ~ "' must be 'family.segment' with family one of " ~ families | join(', ')) }}
        {%- endif %}
        {%- do sides.append(parts) %}
    {%- endfor %}
    {%- do checked.append(sides) %}
{%- endfor %}

select
    as_of_date,
    segment_family_a,
    segment_a,
    segment_family_b,
    segment_b,
    overlap_share_of_smaller
from {{ model }}
where
    overlap_share_of_smaller >= {{ max_share }}
    and (
        {%- for sides in checked %}
            (
                segment_family_a = '{{ sides[0][0] }}' and segment_a = '{{ sides[0][1] }}'
                and segment_family_b = '{{ sides[1][0] }}' and segment_b = '{{ sides[1][1] }}'
            )
            {%- if not loop.last %} or {% endif %}
        {%- endfor %}
        {%- if not checked %} false {%- endif %}
    )

{% endtest %}
