-- Every pair of segments of the non-exclusive families (behaviour, crm_tag, custom) on
-- the as-of date, each pair once (a before b by family, then segment), pairs that share
-- nobody included: members of each, of both, Jaccard, and overlap as a share of the
-- smaller segment.
with memberships as (
    select * from {{ ref('fct_segment_memberships') }}
    where segment_family in ({{ audience.sql_string_list(audience.non_exclusive_families()) }})
),

sizes as (
    select
        as_of_date,
        segment_family,
        segment,
        count(*) as members
    from memberships
    group by as_of_date, segment_family, segment
),

pairs as (
    select
        a.as_of_date,
        a.segment_family as segment_family_a,
        a.segment as segment_a,
        b.segment_family as segment_family_b,
        b.segment as segment_b,
        a.members as members_a,
        b.members as members_b
    from sizes as a
    inner join sizes as b
        on
            a.as_of_date = b.as_of_date
            and (
                a.segment_family < b.segment_family
                or (a.segment_family = b.segment_family and a.segment < b.segment)
            )
),

shared as (
    select
        a.segment_family as segment_family_a,
        a.segment as segment_a,
        b.segment_family as segment_family_b,
        b.segment as segment_b,
        count(*) as members_both
    from memberships as a
    inner join memberships as b
        on
            a.customer_id = b.customer_id
            and (
                a.segment_family < b.segment_family
                or (a.segment_family = b.segment_family and a.segment < b.segment)
            )
    group by a.segment_family, a.segment, b.segment_family, b.segment
),

counted as (
    select
        pairs.as_of_date,
        pairs.segment_family_a,
        pairs.segment_a,
        pairs.segment_family_b,
        pairs.segment_b,
        pairs.members_a,
        pairs.members_b,
        coalesce(shared.members_both, 0) as members_both
    from pairs
    left join shared
        on
            pairs.segment_family_a = shared.segment_family_a
            and pairs.segment_a = shared.segment_a
            and pairs.segment_family_b = shared.segment_family_b
            and pairs.segment_b = shared.segment_b
),

final as (
    select
        as_of_date,
        segment_family_a,
        segment_a,
        segment_family_b,
        segment_b,
        cast(members_a as bigint) as members_a,
        cast(members_b as bigint) as members_b,
        cast(members_both as bigint) as members_both,
        {{ audience.ratio('members_both', 'members_a + members_b - members_both') }} as jaccard,
        {{ audience.ratio('members_both', 'least(members_a, members_b)') }}
            as overlap_share_of_smaller
    from counted
)

select * from final
