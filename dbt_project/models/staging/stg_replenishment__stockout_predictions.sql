-- Predicted stock-outs per as-of day, as the replenishment asset recorded them (one row per day,
-- part and location with a prediction). No rows before the asset's first run.
{%- set history = source('replenishment', 'stockout_prediction_history') %}
{% if source_exists(history) %}
select
    cast(as_of_date as {{ date_type() }}) as as_of_date,
    cast(part_id as {{ text_type() }}) as part_id,
    cast(location_id as {{ text_type() }}) as location_id,
    cast(days_to_stockout as {{ int_type() }}) as days_to_stockout,
    cast(projected_stockout_date as {{ date_type() }}) as projected_stockout_date,
    cast(inventory_position as {{ int_type() }}) as inventory_position,
    cast(reorder_point as {{ int_type() }}) as reorder_point,
    cast(stockout_window_days as {{ int_type() }}) as stockout_window_days
from {{ history }}
{% else %}
select
    cast(null as {{ date_type() }}) as as_of_date,
    cast(null as {{ text_type() }}) as part_id,
    cast(null as {{ text_type() }}) as location_id,
    cast(null as {{ int_type() }}) as days_to_stockout,
    cast(null as {{ date_type() }}) as projected_stockout_date,
    cast(null as {{ int_type() }}) as inventory_position,
    cast(null as {{ int_type() }}) as reorder_point,
    cast(null as {{ int_type() }}) as stockout_window_days
where 1 = 0
{% endif %}
