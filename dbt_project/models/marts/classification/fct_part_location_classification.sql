-- ABC class (within the location) and demand pattern per part and location, over the
-- classification window: the `classification_window_days` (365) days ending on the ledger end day.
with demand as (

    select
        part_id,
        location_id,
        issued_qty
    from {{ ref('fct_daily_demand') }}
    where demand_date > {{ ledger_end_date() }} - {{ var('classification_window_days') }}

),

parts as (

    select * from {{ ref('int_parts_enriched') }}

),

stats as (

    select
        part_id,
        location_id,
        cast(count(*) as {{ int_type() }}) as observed_days,
        cast(count(case when issued_qty > 0 then 1 end) as {{ int_type() }}) as demand_days,
        cast(sum(issued_qty) as {{ int_type() }}) as issued_qty,
        cast(sum(issued_qty * issued_qty) as {{ int_type() }}) as issued_qty_squared
    from demand
    group by part_id, location_id

),

valued as (

    select
        stats.*,
        cast(stats.issued_qty * coalesce(parts.unit_cost, 0) as {{ money_type() }}) as consumption_value
    from stats
    left join parts
        on stats.part_id = parts.part_id

),

shared as (

    select
        valued.*,
        {{ value_share_before('consumption_value', 'location_id', 'part_id') }} as value_share_before,
        {{ adi('observed_days', 'demand_days') }} as adi,
        {{ cv_squared('demand_days', 'issued_qty', 'issued_qty_squared') }} as cv_squared
    from valued

)

select
    {{ surrogate_key(['part_id', 'location_id']) }} as part_location_classification_key,
    part_id,
    location_id,
    cast({{ ledger_end_date() }} as date) as as_of_date,
    observed_days,
    demand_days,
    issued_qty,
    consumption_value,
    value_share_before,
    {{ abc_class('value_share_before') }} as abc_class,
    adi,
    cv_squared,
    {{ demand_pattern('demand_days', 'adi', 'cv_squared') }} as demand_pattern
from shared
