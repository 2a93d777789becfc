-- One row per part-location pair that has a stock snapshot or a transaction:
-- on_hand = on_hand of the pair's latest snapshot (0 if none)
--         + sum of signed_quantity of the pair's transactions whose occurred_date is AFTER that
--           snapshot's as_of (all of the pair's transactions if it has no snapshot).
-- A snapshot is the end-of-day position, so transactions ON the as_of day are already in it.
with snapshots as (

    select * from {{ ref('stg_inventory__stock_levels') }}

),

transactions as (

    select * from {{ ref('int_transactions_signed') }}

),

ranked_snapshots as (

    select
        part_id,
        location_id,
        as_of,
        on_hand,
        reorder_threshold,
        critical_threshold,
        status,
        row_number() over (
            partition by part_id, location_id
            order by as_of desc nulls last
        ) as _snapshot_rank
    from snapshots

),

latest_snapshot as (

    select * from ranked_snapshots where _snapshot_rank = 1

),

-- One aggregation of the ledger per pair, the sum keeping only the rows after the snapshot: this
-- also lists the pairs with transactions, so no separate distinct pass over the ledger is needed.
ledger_after_snapshot as (

    select
        transactions.part_id,
        transactions.location_id,
        cast(
            sum(
                case
                    when latest_snapshot.as_of is null
                        or transactions.occurred_date > latest_snapshot.as_of
                        then transactions.signed_quantity
                end
            )
            as {{ int_type() }}
        ) as ledger_quantity
    from transactions
    left join latest_snapshot
        on transactions.part_id = latest_snapshot.part_id
        and transactions.location_id = latest_snapshot.location_id
    group by transactions.part_id, transactions.location_id

),

pairs as (

    select
        coalesce(latest_snapshot.part_id, ledger_after_snapshot.part_id) as part_id,
        coalesce(latest_snapshot.location_id, ledger_after_snapshot.location_id) as location_id,
        latest_snapshot.as_of,
        latest_snapshot.on_hand,
        latest_snapshot.reorder_threshold,
        latest_snapshot.critical_threshold,
        latest_snapshot.status,
        ledger_after_snapshot.ledger_quantity
    from latest_snapshot
    full outer join ledger_after_snapshot
        on latest_snapshot.part_id = ledger_after_snapshot.part_id
        and latest_snapshot.location_id = ledger_after_snapshot.location_id

)

select
    {{ surrogate_key(['part_id', 'location_id']) }} as position_key,
    part_id,
    location_id,
    as_of as snapshot_as_of,
    on_hand as snapshot_on_hand,
    coalesce(ledger_quantity, cast(0 as {{ int_type() }})) as ledger_quantity_after_snapshot,
    cast(coalesce(on_hand, 0) + coalesce(ledger_quantity, 0) as {{ int_type() }}) as on_hand,
    reorder_threshold,
    critical_threshold,
    coalesce(status, 'active') as status
from pairs
