{#- Every exported row is sendable, derived here from the rules rather than from the
    models' own columns: the customer exists and is emailable and not suppressed on that
    date, the membership's holdout bucket (recomputed from its hash) is not below
    holdout_pct, and the customer's global bucket is not below global_holdout_pct. So no
    export row is suppressed, control or global control. -#}
{% test exports_only_sendable(model, customers) %}

select
    exported.as_of_date,
    exported.customer_id,
    exported.segment_family,
    exported.segment
from {{ model }} as exported
left join {{ customers }} as customers
    on
        exported.customer_id = customers.customer_id
        and exported.as_of_date = customers.as_of_date
where
    customers.customer_id is null
    or customers.is_suppressed
    or not customers.is_emailable
    or {{ audience.is_holdout_control('exported.segment_family', 'exported.segment', 'exported.customer_id') }}
    or {{ audience.is_global_control('exported.customer_id') }}

{% endtest %}
