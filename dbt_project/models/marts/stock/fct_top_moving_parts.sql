-- The fastest-moving parts per location over the trailing 7, 30 and 90 days ending at
-- ledger_end_date (days d with ledger_end_date - window_days < d <= ledger_end_date), ranked by
-- issued quantity and by issued value (quantity x unit cost); a part is kept when it is in the top
-- var('top_moving_parts') of either ranking. Ties are broken by part_id.
with daily_stock as (

    select * from {{ ref('fct_daily_stock') }}

),

windows as (

    select 7 as window_days
    union all select 30
    union all select 90

),

issued as (

    select
        windows.window_days,
        daily_stock.location_id,
        daily_stock.part_id,
        sum(daily_stock.issued_qty) as issued_qty,
        sum(daily_stock.issued_qty * daily_stock.unit_cost) as issued_value
    from daily_stock
    inner join windows
        on daily_stock.stock_date > {{ ledger_end_date() }} - windows.window_days
    where daily_stock.issued_qty > 0
    group by windows.window_days, daily_stock.location_id, daily_stock.part_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by window_days, location_id order by issued_qty desc, part_id
        ) as rank_by_quantity,
        row_number() over (
            partition by window_days, location_id
            order by issued_value desc nulls last, part_id
        ) as rank_by_value
    from issued

)

select
    {{ surrogate_key(['location_id', 'window_days', 'part_id']) }} as top_moving_part_key,
    location_id,
    cast(window_days as {{ int_type() }}) as window_days,
    part_id,
    cast(issued_qty as {{ int_type() }}) as issued_qty,
    cast(issued_value as {{ money_type() }}) as issued_value,
    cast(rank_by_quantity as {{ int_type() }}) as rank_by_quantity,
    cast(rank_by_value as {{ int_type() }}) as rank_by_value
from ranked
where rank_by_quantity <= {{ var('top_moving_parts') }}
    or rank_by_value <= {{ var('top_moving_parts') }}
