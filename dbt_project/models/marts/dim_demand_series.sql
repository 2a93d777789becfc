-- One row per demand series (part and location) of fct_daily_demand: its first and last day and
-- its number of rows. With fct_daily_issues (its days with issues) it is the whole zero-filled
-- series: the forecasting and simulation runs of each location group read these two instead of
-- scanning the 240M daily rows at the l scale once per group.
with demand as (

    select * from {{ ref('fct_daily_demand') }}

)

select
    {{ surrogate_key(['part_id', 'location_id']) }} as demand_series_key,
    part_id,
    location_id,
    min(demand_date) as first_demand_date,
    max(demand_date) as last_demand_date,
    -- more rows than days between the two means a day twice: readers reject the series
    cast(count(*) as {{ int_type() }}) as demand_days,
    cast(sum(case when issued_qty <> 0 then 1 else 0 end) as {{ int_type() }}) as issue_days,
    cast(sum(issued_qty) as {{ int_type() }}) as issued_qty
from demand
group by part_id, location_id
