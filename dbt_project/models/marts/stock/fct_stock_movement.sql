-- One row per part-location pair, as of ledger_end_date: its stock, when it last had an ISSUE and
-- whether the stock on hand is obsolete or slow-moving. "Days without issue" counts from the last
-- ISSUE, or from the pair's first activity when it never had one (a new pair is not obsolete).
-- Only first_activity_date needs every day of the pair; the window sum reads the last
-- days_of_supply_window_days days, and last_issue_date is fct_daily_stock's own running
-- last_issue_date on ledger_end_date (the latest day with issued_qty > 0 so far).
with first_days as (

    select part_id, location_id, min(stock_date) as first_activity_date
    from {{ ref('fct_daily_stock') }}
    group by part_id, location_id

),

recent as (

    select part_id, location_id, sum(issued_qty) as issued_qty_window
    from {{ ref('fct_daily_stock') }}
    where stock_date > {{ ledger_end_date() }} - {{ var('days_of_supply_window_days') }}
    group by part_id, location_id

),

history as (

    select
        first_days.part_id,
        first_days.location_id,
        first_days.first_activity_date,
        recent.issued_qty_window
    from first_days
    inner join recent
        on first_days.part_id = recent.part_id
        and first_days.location_id = recent.location_id

),

today as (

    select * from {{ ref('fct_daily_stock') }} where stock_date = {{ ledger_end_date() }}

),

measured as (

    select
        today.part_id,
        today.location_id,
        today.on_hand,
        today.unit_cost,
        today.inventory_value,
        history.first_activity_date,
        today.last_issue_date,
        {{ ledger_end_date() }} - today.last_issue_date as days_since_last_issue,
        {{ ledger_end_date() }} - coalesce(today.last_issue_date, history.first_activity_date)
            as days_without_issue,
        history.issued_qty_window
    from today
    inner join history
        on today.part_id = history.part_id
        and today.location_id = history.location_id

)

select
    {{ surrogate_key(['measured.part_id', 'measured.location_id']) }} as stock_movement_key,
    measured.part_id,
    measured.location_id,
    parts.category_id,
    locations.region,
    measured.first_activity_date,
    measured.last_issue_date,
    cast(measured.days_since_last_issue as {{ int_type() }}) as days_since_last_issue,
    cast(measured.days_without_issue as {{ int_type() }}) as days_without_issue,
    measured.on_hand,
    measured.unit_cost,
    measured.inventory_value,
    cast(measured.issued_qty_window as {{ double_type() }})
        / {{ var('days_of_supply_window_days') }} as avg_daily_demand,
    case
        when measured.issued_qty_window > 0
            then measured.on_hand / (
                cast(measured.issued_qty_window as {{ double_type() }})
                / {{ var('days_of_supply_window_days') }}
            )
    end as days_of_supply,
    case
        when measured.on_hand > 0
            and measured.days_without_issue >= {{ var('obsolete_after_days') }} then true
        else false
    end as is_obsolete,
    case
        when measured.on_hand > 0
            and measured.days_without_issue >= {{ var('slow_moving_after_days') }}
            and measured.days_without_issue < {{ var('obsolete_after_days') }} then true
        else false
    end as is_slow_moving
from measured
left join {{ ref('stg_inventory__parts') }} as parts
    on measured.part_id = parts.part_id
left join {{ ref('stg_inventory__locations') }} as locations
    on measured.location_id = locations.location_id
