-- Every alert episode, open or closed, derived from the daily history (so a rebuild from the same
-- data gives the same episodes and ids). A stock condition is evaluated on every day of
-- fct_daily_stock; consecutive days with the condition form one episode (gaps and islands: on a
-- gap-free daily series, stock_date - row_number() is constant within a run of flagged days).
-- opened_at = first day of the run; closed_at = the day after its last day (the first day the
-- condition no longer held), NULL when the run reaches ledger_end_date().
-- Stock levels are exclusive (stockout > critical_stock > low_stock) and only for active stock.
-- read twice (the days, and the pairs' texts): not materialized, which would copy 240M rows at l
with daily_stock as not materialized (

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

-- The stock conditions' days carry the pair as one bigint, its hash in fct_daily_stock's key, and
-- the type as a number: the window below sorts ~100M flagged days at the l scale, which took
-- 50 s with three texts per day and spilled to disk, 16 s without. The texts come back once per
-- episode.
alert_types as (

    select 0 as type_number, 'stockout' as alert_type
    union all select 1, 'critical_stock'
    union all select 2, 'low_stock'
    union all select 3, 'expiring'
    union all select 4, 'obsolete'

),

condition_days as (

    select
        {{ pair_of_day_key('daily_stock.daily_stock_key') }} as pair_hash,
        daily_stock.stock_date,
        case
            when not daily_stock.is_active then null
            when daily_stock.on_hand <= 0 then 0
            when daily_stock.on_hand <= daily_stock.critical_threshold then 1
            when daily_stock.on_hand <= daily_stock.reorder_threshold then 2
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

pairs as (

    select
        {{ pair_of_day_key('daily_stock_key') }} as pair_hash,
        min(part_id) as part_id,
        min(location_id) as location_id
    from daily_stock
    group by {{ pair_of_day_key('daily_stock_key') }}

),

-- fct_stock_movement.is_obsolete, evaluated on every day: stock on hand and no ISSUE for
-- obsolete_after_days days, counted from the pair's first day when it never had one.
-- fct_daily_stock.last_issue_date is the latest ISSUE day so far (no window over the 19M days
-- here); it is NULL on exactly the pair's days before its first ISSUE, so the pair's first day
-- is the first of those.
never_issued_days as (

    select pair_hash, stock_date, on_hand
    from condition_days
    where last_issue_date is null

),

never_issued_pairs as (

    select pair_hash, min(stock_date) as first_date
    from never_issued_days
    group by pair_hash

),

obsolete_days as (

    select pair_hash, stock_date
    from condition_days
    where on_hand > 0
        and stock_date - last_issue_date >= {{ var('obsolete_after_days') }}
    union all
    select never_issued_days.pair_hash, never_issued_days.stock_date
    from never_issued_days
    inner join never_issued_pairs
        on never_issued_days.pair_hash = never_issued_pairs.pair_hash
    where never_issued_days.on_hand > 0
        and never_issued_days.stock_date - never_issued_pairs.first_date >= {{ var('obsolete_after_days') }}

),

flagged_days as (

    select pair_hash, stock_level as type_number, stock_date
    from condition_days
    where stock_level is not null
    union all
    select pair_hash, 3 as type_number, stock_date
    from condition_days
    where is_expiring
    union all
    select pair_hash, 4 as type_number, stock_date
    from obsolete_days

),

islands as (

    select
        pair_hash,
        type_number,
        stock_date,
        stock_date - cast(
            row_number() over (
                partition by pair_hash * 8 + type_number
                order by stock_date
            ) as integer
        ) as island
    from flagged_days

),

stock_islands as (

    select
        pair_hash,
        type_number,
        min(stock_date) as opened_at,
        max(stock_date) as last_day
    from islands
    group by pair_hash, type_number, island

),

stock_episodes as (

    select
        alert_types.alert_type,
        pairs.part_id,
        pairs.location_id,
        cast(null as {{ text_type() }}) as po_id,
        stock_islands.opened_at,
        case
            when stock_islands.last_day < ledger.as_of_date then stock_islands.last_day + 1
        end as closed_at
    from stock_islands
    cross join ledger
    inner join pairs
        on stock_islands.pair_hash = pairs.pair_hash
    inner join alert_types
        on stock_islands.type_number = alert_types.type_number

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
