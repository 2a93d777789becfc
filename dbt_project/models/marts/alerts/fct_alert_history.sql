-- Every alert episode, open or closed, derived from the daily history (so a rebuild from the same
-- data gives the same episodes and ids). A stock condition is evaluated on every day of
-- fct_daily_stock; consecutive days with the condition form one episode (gaps and islands: on a
-- gap-free daily series, stock_date - row_number() is constant within a run of flagged days).
-- opened_at = first day of the run; closed_at = the day after its last day (the first day the
-- condition no longer held), NULL when the run reaches ledger_end_date().
-- Stock levels are exclusive (stockout > critical_stock > low_stock) and only for active stock.
with daily_stock as (

    select * from {{ ref('fct_daily_stock') }}

),

expiry_days as (

    select * from {{ ref('int_expiry_risk_days') }}

),

purchase_orders as (

    select * from {{ ref('fct_purchase_orders') }}

),

predicted_stockouts as (

    select * from {{ ref('int_predicted_stockout_episodes') }}

),

ledger as (

    select {{ ledger_end_date() }} as as_of_date

),

condition_days as (

    select
        daily_stock.part_id,
        daily_stock.location_id,
        daily_stock.stock_date,
        case
            when not daily_stock.is_active then null
            when daily_stock.on_hand <= 0 then 'stockout'
            when daily_stock.on_hand <= daily_stock.critical_threshold then 'critical_stock'
            when daily_stock.on_hand <= daily_stock.reorder_threshold then 'low_stock'
        end as stock_level,
        coalesce(expiry_days.is_expiring, false) as is_expiring,
        daily_stock.on_hand,
        daily_stock.last_issue_date
    from daily_stock
    left join expiry_days
        on daily_stock.part_id = expiry_days.part_id
        and daily_stock.location_id = expiry_days.location_id
        and daily_stock.stock_date = expiry_days.stock_date

),

-- fct_stock_movement.is_obsolete, evaluated on every day: stock on hand and no ISSUE for
-- obsolete_after_days days, counted from the pair's first day when it never had one.
-- fct_daily_stock.last_issue_date is the latest ISSUE day so far (no window over the 19M days
-- here); it is NULL on exactly the pair's days before its first ISSUE, so the pair's first day
-- is the first of those.
never_issued_days as (

    select part_id, location_id, stock_date, on_hand
    from condition_days
    where last_issue_date is null

),

never_issued_pairs as (

    select part_id, location_id, min(stock_date) as first_date
    from never_issued_days
    group by part_id, location_id

),

obsolete_days as (

    select part_id, location_id, stock_date
    from condition_days
    where on_hand > 0
        and stock_date - last_issue_date >= {{ var('obsolete_after_days') }}
    union all
    select never_issued_days.part_id, never_issued_days.location_id, never_issued_days.stock_date
    from never_issued_days
    inner join never_issued_pairs
        on never_issued_days.part_id = never_issued_pairs.part_id
        and never_issued_days.location_id = never_issued_pairs.location_id
    where never_issued_days.on_hand > 0
        and never_issued_days.stock_date - never_issued_pairs.first_date >= {{ var('obsolete_after_days') }}

),

flagged_days as (

    select part_id, location_id, stock_date, stock_level as alert_type
    from condition_days
    where stock_level is not null
    union all
    select part_id, location_id, stock_date, 'expiring' as alert_type
    from condition_days
    where is_expiring
    union all
    select part_id, location_id, stock_date, 'obsolete' as alert_type
    from obsolete_days

),

islands as (

    select
        *,
        stock_date - cast(
            row_number() over (
                partition by part_id, location_id, alert_type
                order by stock_date
            ) as integer
        ) as island
    from flagged_days

),

stock_episodes as (

    select
        islands.alert_type,
        islands.part_id,
        islands.location_id,
        cast(null as {{ text_type() }}) as po_id,
        min(islands.stock_date) as opened_at,
        case
            when max(islands.stock_date) < max(ledger.as_of_date) then max(islands.stock_date) + 1
        end as closed_at
    from islands
    cross join ledger
    group by islands.alert_type, islands.part_id, islands.location_id, islands.island

),

-- A purchase order is late from the day after expected_at until it is received or cancelled.
late_po_episodes as (

    select
        'late_purchase_order' as alert_type,
        purchase_orders.part_id,
        purchase_orders.location_id,
        purchase_orders.po_id,
        purchase_orders.expected_date + 1 as opened_at,
        case
            when purchase_orders.status = 'RECEIVED' then purchase_orders.received_date
            when purchase_orders.status = 'CANCELLED' then cast(purchase_orders.updated_at as date)
        end as closed_at
    from purchase_orders
    cross join ledger
    where
        (purchase_orders.status = 'RECEIVED'
            and purchase_orders.received_date > purchase_orders.expected_date)
        or (purchase_orders.status = 'CANCELLED'
            and cast(purchase_orders.updated_at as date) > purchase_orders.expected_date)
        or (purchase_orders.status = 'OPEN'
            and purchase_orders.expected_date < ledger.as_of_date)

),

episodes as (

    select * from stock_episodes
    union all
    select * from late_po_episodes
    union all
    select
        'predicted_stockout' as alert_type,
        part_id,
        location_id,
        cast(null as {{ text_type() }}) as po_id,
        opened_at,
        closed_at
    from predicted_stockouts

)

select
    {{ surrogate_key(['episodes.alert_type', 'episodes.part_id', 'episodes.location_id', 'episodes.po_id', 'episodes.opened_at']) }}
        as alert_id,
    cast(episodes.alert_type as {{ text_type() }}) as alert_type,
    cast(
        case episodes.alert_type
            when 'stockout' then 'critical'
            when 'critical_stock' then 'high'
            when 'predicted_stockout' then 'high'
            when 'late_purchase_order' then 'medium'
            when 'expiring' then 'medium'
            when 'low_stock' then 'low'
            when 'obsolete' then 'low'
        end
        as {{ text_type() }}
    ) as severity,
    episodes.part_id,
    episodes.location_id,
    episodes.po_id,
    episodes.opened_at,
    episodes.closed_at,
    episodes.closed_at is null as is_open,
    cast(coalesce(episodes.closed_at, ledger.as_of_date) - episodes.opened_at as {{ int_type() }})
        as duration_days
from episodes
cross join ledger
