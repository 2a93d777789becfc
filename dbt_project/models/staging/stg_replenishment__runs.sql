-- The as-of days on which the replenishment asset ran (one row each). No rows before its first run.
{%- set runs = source('replenishment', 'replenishment_runs') %}
{% if source_exists(runs) %}
select
    cast(as_of_date as {{ date_type() }}) as as_of_date,
    cast(model_version as {{ text_type() }}) as model_version,
    cast(pairs as {{ int_type() }}) as pairs,
    cast(predicted_stockouts as {{ int_type() }}) as predicted_stockouts
from {{ runs }}
{% else %}
select
    cast(null as {{ date_type() }}) as as_of_date,
    cast(null as {{ text_type() }}) as model_version,
    cast(null as {{ int_type() }}) as pairs,
    cast(null as {{ int_type() }}) as predicted_stockouts
where 1 = 0
{% endif %}
