-- One row per day and part-location with stock on hand (fct_daily_stock) of a part that has a
-- shelf life, with the receipt date of the OLDEST stock still on hand under FIFO (the same rule as
-- fct_stock_ageing, evaluated on every day instead of only on ledger_end_date()):
--   received_to_date = sum of the pair's receipt quantities (RECEIPT, TRANSFER_IN, RETURN,
--                      positive ADJUSTMENT) on or before the day
--   consumed_qty     = received_to_date - on_hand: what FIFO has taken from the oldest layers
-- The oldest layer left is the receipt day whose cumulative range
-- [received_through - received_qty, received_through) contains consumed_qty (a range join, no
-- loop). consumed_qty < 0 means part of the stock is older than every known receipt: its receipt
-- date is the first ledger day (as in fct_stock_ageing).
with daily_stock as (

    select * from {{ ref('fct_daily_stock') }}

),

parts as (

    select * from {{ ref('int_parts_enriched') }}

),

transactions as (

    select * from {{ ref('int_transactions_signed') }}

),

first_ledger as (

    select min(occurred_date) as first_ledger_date from transactions

),

receipt_days as (

    select
        part_id,
        location_id,
        occurred_date as received_date,
        sum(signed_quantity) as received_qty
    from transactions
    where type in ('RECEIPT', 'TRANSFER_IN', 'RETURN')
        or (type = 'ADJUSTMENT' and signed_quantity > 0)
    group by part_id, location_id, occurred_date

),

receipt_ranges as (

    select
        *,
        sum(received_qty) over (
            partition by part_id, location_id
            order by received_date
            rows between unbounded preceding and current row
        ) as received_through
    from receipt_days

),

stock_days as (

    select
        daily_stock.part_id,
        daily_stock.location_id,
        daily_stock.stock_date,
        daily_stock.on_hand,
        parts.shelf_life_days,
        coalesce(
            sum(receipt_days.received_qty) over (
                partition by daily_stock.part_id, daily_stock.location_id
                order by daily_stock.stock_date
                rows between unbounded preceding and current row
            ),
            0
        ) - daily_stock.on_hand as consumed_qty
    from daily_stock
    inner join parts
        on daily_stock.part_id = parts.part_id
    left join receipt_days
        on daily_stock.part_id = receipt_days.part_id
        and daily_stock.location_id = receipt_days.location_id
        and daily_stock.stock_date = receipt_days.received_date
    where parts.shelf_life_days is not null

),

oldest as (

    select
        stock_days.part_id,
        stock_days.location_id,
        stock_days.stock_date,
        stock_days.on_hand,
        stock_days.shelf_life_days,
        coalesce(receipt_ranges.received_date, first_ledger.first_ledger_date) as oldest_received_date
    from stock_days
    cross join first_ledger
    left join receipt_ranges
        on stock_days.part_id = receipt_ranges.part_id
        and stock_days.location_id = receipt_ranges.location_id
        and receipt_ranges.received_through - receipt_ranges.received_qty <= stock_days.consumed_qty
        and stock_days.consumed_qty < receipt_ranges.received_through
    where stock_days.on_hand > 0

)

select
    part_id,
    location_id,
    stock_date,
    on_hand,
    shelf_life_days,
    oldest_received_date,
    cast(stock_date - oldest_received_date as {{ int_type() }}) as oldest_age_days,
    stock_date - oldest_received_date > shelf_life_days - 30 as is_expiring
from oldest
