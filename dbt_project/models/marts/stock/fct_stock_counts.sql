-- One row per stock snapshot (count) that has an earlier snapshot of the same pair: the counted
-- on_hand against the ledger-derived position of that day, i.e. the reconstructed end-of-day
-- stock of the day before (anchored on the earlier snapshots) plus the day's net ledger change.
-- A pair's first snapshot is the baseline of its stock, so there is nothing to compare it with.
-- fct_daily_stock is named twice instead of through a shared CTE: DuckDB would materialize a CTE
-- read twice (a copy of its 19M rows at scale m).
with counts as (

    select
        part_id,
        location_id,
        stock_date as count_date,
        snapshot_on_hand as counted_on_hand,
        net_change,
        unit_cost,
        row_number() over (
            partition by part_id, location_id order by stock_date
        ) as count_number
    from {{ ref('fct_daily_stock') }}
    where snapshot_on_hand is not null

)

select
    {{ surrogate_key(['counts.part_id', 'counts.location_id', 'counts.count_date']) }} as stock_count_key,
    counts.part_id,
    counts.location_id,
    counts.count_date,
    counts.counted_on_hand,
    cast(previous_day.on_hand + counts.net_change as {{ int_type() }}) as ledger_on_hand,
    cast(counts.counted_on_hand - (previous_day.on_hand + counts.net_change) as {{ int_type() }})
        as difference_qty,
    cast(
        (counts.counted_on_hand - (previous_day.on_hand + counts.net_change)) * counts.unit_cost
        as {{ money_type() }}
    ) as difference_value,
    case
        when counts.counted_on_hand = previous_day.on_hand + counts.net_change then true
        else false
    end as is_accurate
from counts
inner join {{ ref('fct_daily_stock') }} as previous_day
    on counts.part_id = previous_day.part_id
    and counts.location_id = previous_day.location_id
    and previous_day.stock_date = counts.count_date - 1
where counts.count_number > 1
