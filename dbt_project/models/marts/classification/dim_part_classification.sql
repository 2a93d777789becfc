-- ABC class (across all parts) and demand pattern per part, over the classification window (the
-- `classification_window_days` days ending on the ledger end day), with the demand of all
-- locations added up per day. Every part of the part master gets a row.
with demand as (

    select
        part_id,
        demand_date,
        sum(issued_qty) as issued_qty
    from {{ ref('fct_daily_demand') }}
    where demand_date > {{ ledger_end_date() }} - {{ var('classification_window_days') }}
    group by part_id, demand_date

),

parts as (

    select * from {{ ref('int_parts_enriched') }}

),

stats as (

    select
        part_id,
        count(*) as observed_days,
        count(case when issued_qty > 0 then 1 end) as demand_days,
        sum(issued_qty) as issued_qty,
        sum(issued_qty * issued_qty) as issued_qty_squared
    from demand
    group by part_id

),

valued as (

    select
        parts.part_id,
        parts.category_id,
        parts.unit_cost,
        cast(coalesce(stats.observed_days, 0) as {{ int_type() }}) as observed_days,
        cast(coalesce(stats.demand_days, 0) as {{ int_type() }}) as demand_days,
        cast(coalesce(stats.issued_qty, 0) as {{ int_type() }}) as issued_qty,
        cast(coalesce(stats.issued_qty_squared, 0) as {{ int_type() }}) as issued_qty_squared,
        cast(coalesce(stats.issued_qty, 0) * coalesce(parts.unit_cost, 0) as {{ money_type() }})
            as consumption_value
    from parts
    left join stats
        on parts.part_id = stats.part_id

),

shared as (

    select
        valued.*,
        {{ value_share_before('consumption_value', none, 'part_id') }} as value_share_before,
        {{ adi('observed_days', 'demand_days') }} as adi,
        {{ cv_squared('demand_days', 'issued_qty', 'issued_qty_squared') }} as cv_squared
    from valued

)

select
    part_id,
    category_id,
    cast({{ ledger_end_date() }} as date) as as_of_date,
    observed_days,
    demand_days,
    issued_qty,
    unit_cost,
    consumption_value,
    value_share_before,
    {{ abc_class('value_share_before') }} as abc_class,
    adi,
    cv_squared,
    {{ demand_pattern('demand_days', 'adi', 'cv_squared') }} as demand_pattern
from shared
