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
        -- sums of bigints are 128-bit (DuckDB) or numeric (PostgreSQL): cast back to bigint,
        -- the ~120M events at the l scale then carry 8 bytes per quantity through the window
        cast(sum(case when type = 'RECEIPT' then quantity else 0 end) as {{ int_type() }})
            as received_qty,
        cast(sum(case when type = 'ISSUE' then quantity else 0 end) as {{ int_type() }})
            as issued_qty,
        cast(sum(signed_quantity) as {{ int_type() }}) as net_change
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
        min(case when is_snapshot = 1 then activity_date end) as first_snapshot_date,
        -- a small integer per pair: the 19M-row window and joins at scale m sort and hash ints
        row_number() over (order by part_id, location_id) as pair_number,
        {{ pair_hash(['part_id', 'location_id']) }} as pair_hash
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
        pair_bounds.pair_number,
        pair_bounds.pair_hash,
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
        pair_bounds.pair_number,
        pair_bounds.pair_hash,
        pair_bounds.part_id,
        pair_bounds.location_id,
        pair_bounds.first_date,
        pair_bounds.first_snapshot_date

),

plan as (

    select
        candidates.pair_number,
        candidates.pair_hash,
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
        previous.status as anchor_status,
        previous.last_issue_date as anchor_last_issue_date
    from candidates
    left join {{ this }} as previous
        on candidates.part_id = previous.part_id
        and candidates.location_id = previous.location_id
        and previous.stock_date = candidates.candidate_date - 1

),

{% else %}

plan as (

    select
        pair_number,
        pair_hash,
        part_id,
        location_id,
        first_date as from_date,
        0 as has_anchor,
        cast(null as {{ int_type() }}) as anchor_on_hand,
        cast(null as {{ int_type() }}) as anchor_reorder_threshold,
        cast(null as {{ int_type() }}) as anchor_critical_threshold,
        cast(null as {{ text_type() }}) as anchor_status,
        cast(null as {{ date_type() }}) as anchor_last_issue_date
    from pair_bounds

),

{% endif %}

ledger_end as (

    select {{ ledger_end_date() }} as end_date

),

-- The pair's days with something on them (ledger activity, a snapshot, or the first day to
-- rebuild). Every other day of the pair repeats the end-of-day position of the latest such day
-- with no movement, so the windows and joins run on these ~9M rows at scale m instead of on
-- the 19M zero-filled days, which are only generated at the end.
event_rows as (

    select
        plan.pair_number,
        daily_ledger.stock_date,
        daily_ledger.received_qty,
        daily_ledger.issued_qty,
        daily_ledger.net_change,
        cast(null as {{ int_type() }}) as snapshot_on_hand,
        cast(null as {{ int_type() }}) as snapshot_reorder_threshold,
        cast(null as {{ int_type() }}) as snapshot_critical_threshold,
        cast(null as {{ text_type() }}) as snapshot_status
    from daily_ledger
    inner join plan
        on daily_ledger.part_id = plan.part_id
        and daily_ledger.location_id = plan.location_id
        and daily_ledger.stock_date >= plan.from_date
    union all
    select
        plan.pair_number,
        snapshots.as_of as stock_date,
        0 as received_qty,
        0 as issued_qty,
        0 as net_change,
        snapshots.on_hand as snapshot_on_hand,
        snapshots.reorder_threshold as snapshot_reorder_threshold,
        snapshots.critical_threshold as snapshot_critical_threshold,
        snapshots.status as snapshot_status
    from snapshots
    inner join plan
        on snapshots.part_id = plan.part_id
        and snapshots.location_id = plan.location_id
        and snapshots.as_of >= plan.from_date
    union all
    select
        pair_number,
        from_date as stock_date,
        0 as received_qty,
        0 as issued_qty,
        0 as net_change,
        cast(null as {{ int_type() }}) as snapshot_on_hand,
        cast(null as {{ int_type() }}) as snapshot_reorder_threshold,
        cast(null as {{ int_type() }}) as snapshot_critical_threshold,
        cast(null as {{ text_type() }}) as snapshot_status
    from plan

),

-- at most one ledger row and one snapshot per pair and day, so max() picks the snapshot's values
events as (

    select
        event_rows.pair_number,
        event_rows.stock_date,
        cast(sum(event_rows.received_qty) as {{ int_type() }}) as received_qty,
        cast(sum(event_rows.issued_qty) as {{ int_type() }}) as issued_qty,
        cast(sum(event_rows.net_change) as {{ int_type() }}) as net_change,
        max(event_rows.snapshot_on_hand) as snapshot_on_hand,
        max(event_rows.snapshot_reorder_threshold) as snapshot_reorder_threshold,
        max(event_rows.snapshot_critical_threshold) as snapshot_critical_threshold,
        max(event_rows.snapshot_status) as snapshot_status
    from event_rows
    cross join ledger_end
    where event_rows.stock_date <= ledger_end.end_date
    group by event_rows.pair_number, event_rows.stock_date

),

-- One window pass: running net change, the number of snapshots so far (the anchor is the
-- snapshot with that number), the latest ISSUE day so far, and the next event day (this event's
-- position holds until the day before it).
running as (

    select
        *,
        cast(sum(net_change) over pair_days as {{ int_type() }}) as cumulative_change,
        count(snapshot_on_hand) over pair_days as anchor_number,
        max(case when issued_qty > 0 then stock_date end) over pair_days as last_issue_date,
        lead(stock_date) over (partition by pair_number order by stock_date) as next_event_date
    from events
    window pair_days as (
        partition by pair_number
        order by stock_date
        rows between unbounded preceding and current row
    )

),

-- Each snapshot day as an anchor: on_hand = cumulative_change + anchor_offset until the next one.
-- The snapshot's thresholds and status came along in events: no join back to the snapshots, and
-- the few anchor rows are the build side of the one join with running below.
anchors as (

    select
        pair_number,
        anchor_number,
        snapshot_on_hand - cumulative_change as anchor_offset,
        snapshot_reorder_threshold as reorder_threshold,
        snapshot_critical_threshold as critical_threshold,
        snapshot_status as status
    from running
    where snapshot_on_hand is not null

),

positions as (

    select
        plan.pair_hash,
        plan.part_id,
        plan.location_id,
        running.stock_date,
        coalesce(running.next_event_date - 1, ledger_end.end_date) as held_until,
        running.received_qty,
        running.issued_qty,
        running.net_change,
        running.snapshot_on_hand,
        coalesce(running.last_issue_date, plan.anchor_last_issue_date) as last_issue_date,
        running.cumulative_change + case
            when running.anchor_number > 0 then anchors.anchor_offset
            when plan.has_anchor = 1 then plan.anchor_on_hand
            else coalesce(anchors.anchor_offset, 0)
        end as on_hand,
        case
            when running.anchor_number > 0 then anchors.reorder_threshold
            else plan.anchor_reorder_threshold
        end as reorder_threshold,
        case
            when running.anchor_number > 0 then anchors.critical_threshold
            else plan.anchor_critical_threshold
        end as critical_threshold,
        case
            when running.anchor_number > 0 then anchors.status
            else coalesce(plan.anchor_status, 'active')
        end as status
    from running
    cross join ledger_end
    inner join plan
        on running.pair_number = plan.pair_number
    -- one join: the row's anchor, or for the days before the first snapshot the first one
    left join anchors
        on running.pair_number = anchors.pair_number
        and anchors.anchor_number = greatest(running.anchor_number, 1)

),

-- the output columns once per event, cast once; the day expansion below only copies them
typed_positions as (

    select
        positions.pair_hash,
        positions.part_id,
        positions.location_id,
        positions.stock_date,
        positions.held_until,
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
        positions.last_issue_date
    from positions
    left join parts
        on positions.part_id = parts.part_id

),

loaded as (

    -- loaded_through(): the newest _loaded_at of the three inputs, read from the CTEs above so
    -- that the staging snapshot view (a window over all snapshots) is not evaluated again
    select cast(max(_loaded_at) as {{ timestamp_type() }}) as loaded_through
    from (
        select max(_loaded_at) as _loaded_at from transactions
        union all
        select max(_loaded_at) as _loaded_at from snapshots
        union all
        select max(_loaded_at) as _loaded_at from parts
    ) as sources

),

-- every (span, offset) of a held stretch: the expansion below is an equality join on the span
day_offsets as (

    {{ held_day_offsets(
        '(select max(ledger_end.end_date - plan.from_date) from plan cross join ledger_end)'
    ) }}

),

-- every day from the event through the day before the next one: the event's own movements on
-- its day, no movement and the same position on the days after it
days as (

    select
        typed_positions.*,
        typed_positions.stock_date + day_offsets.day_offset as day_date
    from typed_positions
    inner join day_offsets
        on day_offsets.span = typed_positions.held_until - typed_positions.stock_date

)

select
    -- the pair's hash (computed once per pair) and the day as one bigint: no md5 or text per row
    {{ pair_day_key('days.pair_hash', 'days.day_date') }} as daily_stock_key,
    days.part_id,
    days.location_id,
    days.day_date as stock_date,
    days.on_hand,
    case when days.day_date = days.stock_date then days.received_qty else 0 end as received_qty,
    case when days.day_date = days.stock_date then days.issued_qty else 0 end as issued_qty,
    case when days.day_date = days.stock_date then days.net_change else 0 end as net_change,
    days.reorder_threshold,
    days.critical_threshold,
    days.status,
    days.is_active,
    days.unit_cost,
    days.inventory_value,
    days.is_stockout,
    case when days.day_date = days.stock_date then days.snapshot_on_hand end as snapshot_on_hand,
    days.last_issue_date,
    loaded.loaded_through
from days
cross join loaded
