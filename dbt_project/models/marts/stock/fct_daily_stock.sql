-- Daily end-of-day stock per part and location, from the pair's first activity (snapshot or
-- transaction) to ledger_end_date. A snapshot is the END-of-day position of its as_of day, so
--   on_hand(d) = anchor.on_hand + (cumulative net change through d) - (cumulative net change through anchor day)
-- where the anchor is the latest snapshot on or before d, or, before the pair's first snapshot,
-- that first snapshot (the ledger is rolled BACK from it: the opening stock of a pair is usually
-- not in the ledger), or, for a pair without any snapshot, zero before its first transaction.
--
-- Incremental: rows of a pair are recomputed from the first day touched by data loaded since the
-- previous build (late transactions or snapshots, a changed part cost) and from the previous
-- last day on; the day before acts as the anchor, read from this table. A change on or before the
-- pair's first snapshot (it moves the roll-back) or without an anchor row recomputes the pair.
{{ config(
    materialized='incremental',
    unique_key='daily_stock_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

with transactions as (

    select * from {{ ref('int_transactions_signed') }}

),

snapshots as (

    select * from {{ ref('stg_inventory__stock_levels') }}

),

parts as (

    select * from {{ ref('stg_inventory__parts') }}

),

daily_ledger as (

    select
        part_id,
        location_id,
        occurred_date as stock_date,
        sum(case when type = 'RECEIPT' then quantity else 0 end) as received_qty,
        sum(case when type = 'ISSUE' then quantity else 0 end) as issued_qty,
        sum(signed_quantity) as net_change
    from transactions
    group by part_id, location_id, occurred_date

),

activity as (

    select part_id, location_id, stock_date as activity_date, 0 as is_snapshot from daily_ledger
    union all
    select part_id, location_id, as_of as activity_date, 1 as is_snapshot from snapshots

),

pair_bounds as (

    select
        part_id,
        location_id,
        min(activity_date) as first_date,
        min(case when is_snapshot = 1 then activity_date end) as first_snapshot_date
    from activity
    group by part_id, location_id

),

{% if is_incremental() %}

previous_build as (

    select max(stock_date) as end_date from {{ this }}

),

changed_days as (

    select part_id, location_id, occurred_date as changed_date
    from transactions
    where _loaded_at > {{ previous_loaded_through() }}
    union all
    select part_id, location_id, as_of as changed_date
    from snapshots
    where _loaded_at > {{ previous_loaded_through() }}
    union all
    select pair_bounds.part_id, pair_bounds.location_id, pair_bounds.first_date as changed_date
    from pair_bounds
    inner join parts
        on pair_bounds.part_id = parts.part_id
    where parts._loaded_at > {{ previous_loaded_through() }}

),

candidates as (

    select
        pair_bounds.part_id,
        pair_bounds.location_id,
        pair_bounds.first_date,
        pair_bounds.first_snapshot_date,
        least(
            min(changed_days.changed_date),
            max(previous_build.end_date) + 1
        ) as candidate_date
    from pair_bounds
    cross join previous_build
    left join changed_days
        on pair_bounds.part_id = changed_days.part_id
        and pair_bounds.location_id = changed_days.location_id
    group by
        pair_bounds.part_id,
        pair_bounds.location_id,
        pair_bounds.first_date,
        pair_bounds.first_snapshot_date

),

plan as (

    select
        candidates.part_id,
        candidates.location_id,
        case
            when previous.part_id is null
                or candidates.candidate_date <= candidates.first_snapshot_date
                then candidates.first_date
            else candidates.candidate_date
        end as from_date,
        case
            when previous.part_id is null
                or candidates.candidate_date <= candidates.first_snapshot_date
                then 0
            else 1
        end as has_anchor,
        previous.on_hand as anchor_on_hand,
        previous.reorder_threshold as anchor_reorder_threshold,
        previous.critical_threshold as anchor_critical_threshold,
        previous.status as anchor_status
    from candidates
    left join {{ this }} as previous
        on candidates.part_id = previous.part_id
        and candidates.location_id = previous.location_id
        and previous.stock_date = candidates.candidate_date - 1

),

{% else %}

plan as (

    select
        part_id,
        location_id,
        first_date as from_date,
        0 as has_anchor,
        cast(null as {{ int_type() }}) as anchor_on_hand,
        cast(null as {{ int_type() }}) as anchor_reorder_threshold,
        cast(null as {{ int_type() }}) as anchor_critical_threshold,
        cast(null as {{ text_type() }}) as anchor_status
    from pair_bounds

),

{% endif %}

calendar as (

    select cast(calendar_ts as date) as stock_date
    from generate_series(
        (select cast(min(from_date) as timestamp) from plan),
        (select cast({{ ledger_end_date() }} as timestamp)),
        interval '1 day'
    ) as days (calendar_ts)

),

days as (

    select
        plan.part_id,
        plan.location_id,
        calendar.stock_date,
        plan.has_anchor,
        plan.anchor_on_hand,
        plan.anchor_reorder_threshold,
        plan.anchor_critical_threshold,
        plan.anchor_status,
        coalesce(daily_ledger.received_qty, 0) as received_qty,
        coalesce(daily_ledger.issued_qty, 0) as issued_qty,
        coalesce(daily_ledger.net_change, 0) as net_change,
        snapshots.on_hand as snapshot_on_hand,
        snapshots.reorder_threshold as snapshot_reorder_threshold,
        snapshots.critical_threshold as snapshot_critical_threshold,
        snapshots.status as snapshot_status,
        case when snapshots.as_of is null then 0 else 1 end as is_snapshot_day
    from plan
    inner join calendar
        on calendar.stock_date >= plan.from_date
    left join daily_ledger
        on plan.part_id = daily_ledger.part_id
        and plan.location_id = daily_ledger.location_id
        and calendar.stock_date = daily_ledger.stock_date
    left join snapshots
        on plan.part_id = snapshots.part_id
        and plan.location_id = snapshots.location_id
        and calendar.stock_date = snapshots.as_of

),

running as (

    select
        *,
        sum(net_change) over pair_days as cumulative_change,
        -- snapshot_group n = the days from the pair's n-th snapshot (in this run) to the next one
        sum(is_snapshot_day) over pair_days as snapshot_group
    from days
    window pair_days as (
        partition by part_id, location_id
        order by stock_date
        rows between unbounded preceding and current row
    )

),

offsets as (

    select
        *,
        max(snapshot_on_hand - cumulative_change) over snapshot_span as group_offset,
        max(snapshot_reorder_threshold) over snapshot_span as group_reorder_threshold,
        max(snapshot_critical_threshold) over snapshot_span as group_critical_threshold,
        max(snapshot_status) over snapshot_span as group_status,
        max(case when snapshot_group = 1 then snapshot_on_hand - cumulative_change end)
            over (partition by part_id, location_id) as first_snapshot_offset
    from running
    window snapshot_span as (partition by part_id, location_id, snapshot_group)

),

positions as (

    select
        part_id,
        location_id,
        stock_date,
        received_qty,
        issued_qty,
        net_change,
        snapshot_on_hand,
        cumulative_change + case
            when snapshot_group > 0 then group_offset
            when has_anchor = 1 then anchor_on_hand
            else coalesce(first_snapshot_offset, 0)
        end as on_hand,
        case when snapshot_group > 0 then group_reorder_threshold else anchor_reorder_threshold end
            as reorder_threshold,
        case when snapshot_group > 0 then group_critical_threshold else anchor_critical_threshold end
            as critical_threshold,
        case
            when snapshot_group > 0 then group_status
            else coalesce(anchor_status, 'active')
        end as status
    from offsets

)

select
    {{ surrogate_key(['positions.part_id', 'positions.location_id', 'positions.stock_date']) }} as daily_stock_key,
    positions.part_id,
    positions.location_id,
    positions.stock_date,
    cast(positions.on_hand as {{ int_type() }}) as on_hand,
    cast(positions.received_qty as {{ int_type() }}) as received_qty,
    cast(positions.issued_qty as {{ int_type() }}) as issued_qty,
    cast(positions.net_change as {{ int_type() }}) as net_change,
    cast(positions.reorder_threshold as {{ int_type() }}) as reorder_threshold,
    cast(positions.critical_threshold as {{ int_type() }}) as critical_threshold,
    cast(positions.status as {{ text_type() }}) as status,
    case when positions.status = 'active' then true else false end as is_active,
    cast(parts.unit_cost as {{ money_type() }}) as unit_cost,
    cast(positions.on_hand * parts.unit_cost as {{ money_type() }}) as inventory_value,
    case when positions.on_hand <= 0 then true else false end as is_stockout,
    cast(positions.snapshot_on_hand as {{ int_type() }}) as snapshot_on_hand,
    cast(
        {{ loaded_through(['int_transactions_signed', 'stg_inventory__stock_levels', 'stg_inventory__parts']) }}
        as {{ timestamp_type() }}
    ) as loaded_through
from positions
left join parts
    on positions.part_id = parts.part_id
