{{ config(meta={'dagster': {'ref': {'name': 'fct_alert_history'}}}) }}

-- The daily expiry rule (int_expiry_risk_days) on ledger_end_date() must agree with the FIFO
-- ageing of the current stock: an open `expiring` alert exactly where fct_stock_ageing has stock
-- expired or expiring within 30 days.
with open_alerts as (

    select part_id, location_id from {{ ref('fct_alert_history') }}
    where is_open and alert_type = 'expiring'

),

at_risk as (

    select part_id, location_id from {{ ref('fct_stock_ageing') }}
    where qty_expired + qty_expiring_30d > 0

)

select open_alerts.part_id, open_alerts.location_id, at_risk.part_id as at_risk_part_id
from open_alerts
full outer join at_risk
    on open_alerts.part_id = at_risk.part_id
    and open_alerts.location_id = at_risk.location_id
where open_alerts.part_id is null or at_risk.part_id is null
