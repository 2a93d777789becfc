{{ config(meta={'dagster': {'ref': {'name': 'fct_alert_history'}}}) }}

-- The daily obsolete rule of fct_alert_history on ledger_end_date() is fct_stock_movement's:
-- an open `obsolete` alert exactly where fct_stock_movement.is_obsolete.
with open_alerts as (

    select part_id, location_id from {{ ref('fct_alert_history') }}
    where is_open and alert_type = 'obsolete'

),

obsolete as (

    select part_id, location_id from {{ ref('fct_stock_movement') }}
    where is_obsolete

)

select open_alerts.part_id, open_alerts.location_id, obsolete.part_id as obsolete_part_id
from open_alerts
full outer join obsolete
    on open_alerts.part_id = obsolete.part_id
    and open_alerts.location_id = obsolete.location_id
where open_alerts.part_id is null or obsolete.part_id is null
