-- The open alerts (fct_alert_history.is_open), one row per open condition, with the numbers
-- behind it as of ledger_end_date() and a message for people.
with history as (

    select * from {{ ref('fct_alert_history') }} where is_open

),

daily_stock as (

    select * from {{ ref('fct_daily_stock') }}
    where stock_date = {{ ledger_end_date() }}

),

ageing as (

    select * from {{ ref('fct_stock_ageing') }}

),

movement as (

    select * from {{ ref('fct_stock_movement') }}

),

purchase_orders as (

    select * from {{ ref('fct_purchase_orders') }}

),

parts as (

    select * from {{ ref('int_parts_enriched') }}

),

predicted_stockouts as (

    select * from {{ ref('int_predicted_stockout_episodes') }} where closed_at is null

),

measured as (

    select
        history.alert_id,
        history.alert_type,
        history.severity,
        case history.severity
            when 'critical' then 1 when 'high' then 2 when 'medium' then 3 else 4
        end as severity_rank,
        history.part_id,
        history.location_id,
        history.po_id,
        history.opened_at,
        history.duration_days as days_open,
        daily_stock.on_hand,
        case history.alert_type
            when 'low_stock' then daily_stock.reorder_threshold
            when 'critical_stock' then daily_stock.critical_threshold
            when 'stockout' then 0
            when 'expiring' then ageing.shelf_life_days
            when 'obsolete' then {{ var('obsolete_after_days') }}
        end as threshold,
        case
            when history.alert_type = 'late_purchase_order' then purchase_orders.days_late
            when history.alert_type = 'obsolete' then movement.days_without_issue
            when history.alert_type = 'predicted_stockout' then predicted_stockouts.days_to_stockout
        end as days,
        case
            when history.alert_type in ('low_stock', 'critical_stock', 'stockout')
                then greatest(coalesce(daily_stock.reorder_threshold, 0) - daily_stock.on_hand, 0)
            when history.alert_type = 'expiring' then ageing.qty_expired + ageing.qty_expiring_30d
            when history.alert_type = 'obsolete' then daily_stock.on_hand
            when history.alert_type = 'late_purchase_order' then purchase_orders.quantity
        end as quantity,
        case
            when history.alert_type = 'expiring' then ageing.value_at_risk
            when history.alert_type = 'late_purchase_order'
                then purchase_orders.quantity * parts.unit_cost
            else daily_stock.inventory_value
        end as value,
        purchase_orders.expected_date
    from history
    left join daily_stock
        on history.part_id = daily_stock.part_id
        and history.location_id = daily_stock.location_id
    left join ageing
        on history.part_id = ageing.part_id
        and history.location_id = ageing.location_id
    left join movement
        on history.part_id = movement.part_id
        and history.location_id = movement.location_id
    left join purchase_orders
        on history.po_id = purchase_orders.po_id
    left join parts
        on history.part_id = parts.part_id
    left join predicted_stockouts
        on history.alert_type = 'predicted_stockout'
        and history.part_id = predicted_stockouts.part_id
        and history.location_id = predicted_stockouts.location_id

),

described as (

    select
        *,
        case alert_type
            when 'stockout' then {{ dbt.concat(["'Stock-out: part '", "part_id", "' at '", "location_id", "' has none on hand since '", text_or_unknown('opened_at'), "'.'"]) }}
            when 'critical_stock' then {{ dbt.concat(["'Critical stock: part '", "part_id", "' at '", "location_id", "' has '", text_or_unknown('on_hand'), "' on hand (critical threshold '", text_or_unknown('threshold'), "') since '", text_or_unknown('opened_at'), "'.'"]) }}
            when 'low_stock' then {{ dbt.concat(["'Low stock: part '", "part_id", "' at '", "location_id", "' has '", text_or_unknown('on_hand'), "' on hand (reorder threshold '", text_or_unknown('threshold'), "') since '", text_or_unknown('opened_at'), "'.'"]) }}
            when 'expiring' then {{ dbt.concat(["'Expiring stock: '", text_or_unknown('quantity'), "' units of part '", "part_id", "' at '", "location_id", "' are past or within 30 days of their '", text_or_unknown('threshold'), "'-day shelf life since '", text_or_unknown('opened_at'), "'.'"]) }}
            when 'obsolete' then {{ dbt.concat(["'Obsolete stock: part '", "part_id", "' at '", "location_id", "' has '", text_or_unknown('on_hand'), "' on hand and no issue for '", text_or_unknown('days'), "' days.'"]) }}
            when 'late_purchase_order' then {{ dbt.concat(["'Late purchase order '", "po_id", "': '", text_or_unknown('quantity'), "' units of part '", "part_id", "' for '", "location_id", "' were expected on '", text_or_unknown('expected_date'), "', '", text_or_unknown('days'), "' days late.'"]) }}
            when 'predicted_stockout' then {{ dbt.concat(["'Predicted stock-out: part '", "part_id", "' at '", "location_id", "' is forecast to run out in '", text_or_unknown('days'), "' days.'"]) }}
        end as message
    from measured

)

select
    alert_id,
    alert_type,
    severity,
    cast(severity_rank as {{ int_type() }}) as severity_rank,
    part_id,
    location_id,
    po_id,
    opened_at,
    cast(days_open as {{ int_type() }}) as days_open,
    cast(on_hand as {{ int_type() }}) as on_hand,
    cast(threshold as {{ int_type() }}) as threshold,
    cast(days as {{ int_type() }}) as days,
    cast(quantity as {{ int_type() }}) as quantity,
    cast(value as {{ money_type() }}) as value,
    cast(message as {{ text_type() }}) as message
from described
