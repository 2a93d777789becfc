-- The days of fct_daily_demand with issues (about a tenth of its rows): with dim_demand_series
-- (each series' first and last day) the whole zero-filled series, for the per-group readers.
select
    daily_demand_key,
    part_id,
    location_id,
    demand_date,
    issued_qty
from {{ ref('fct_daily_demand') }}
where issued_qty <> 0
