{#- On a raw table: the rows landed after the build's start (a loader's clock error,
    SPEC section 2). They are classified like any other row, but they never move an
    incremental watermark nor make the table look fresh. Use at warn level. -#}
{% test loaded_before_build_start(model, column_name='_loaded_at') %}

select *
from {{ model }}
where {{ column_name }} > {{ audience.build_started_at() }}

{% endtest %}
