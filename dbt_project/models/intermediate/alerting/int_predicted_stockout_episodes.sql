-- Predicted stock-out episodes for mart_alerts / fct_alert_history: EMPTY until the forecasting
-- issue fills it. The contract for whoever does: one row per part, location and episode, opened_at
-- = the day the forecast first predicted the stock-out (NOT the predicted stock-out day, so the
-- alert id stays stable while the prediction holds), closed_at = the first day it no longer did
-- (NULL while it still does), days_to_stockout = predicted days until on hand reaches 0.
select
    cast(null as {{ text_type() }}) as part_id,
    cast(null as {{ text_type() }}) as location_id,
    cast(null as {{ date_type() }}) as opened_at,
    cast(null as {{ date_type() }}) as closed_at,
    cast(null as {{ int_type() }}) as days_to_stockout
where 1 = 0
