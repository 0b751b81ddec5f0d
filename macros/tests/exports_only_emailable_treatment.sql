{#- Every exported row is a treatment member (by the holdouts mart, not the export's own
    column) of a customer who is emailable and not suppressed on that date. -#}
{% test exports_only_emailable_treatment(model, customers, holdouts) %}

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
left join {{ holdouts }} as holdouts
    on
        exported.as_of_date = holdouts.as_of_date
        and exported.customer_id = holdouts.customer_id
        and exported.segment_family = holdouts.segment_family
        and exported.segment = holdouts.segment
where
    customers.customer_id is null
    or customers.is_suppressed
    or not customers.is_emailable
    or holdouts.holdout_group is null
    or holdouts.holdout_group <> 'treatment'

{% endtest %}
