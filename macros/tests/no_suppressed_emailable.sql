{#- No row marked emailable belongs to a customer who is suppressed on that date. -#}
{% test no_suppressed_emailable(model, customers) %}

select
    rows_to_check.customer_id,
    rows_to_check.as_of_date
from {{ model }} as rows_to_check
inner join {{ customers }} as customers
    on
        rows_to_check.customer_id = customers.customer_id
        and rows_to_check.as_of_date = customers.as_of_date
where rows_to_check.is_emailable and customers.is_suppressed

{% endtest %}
