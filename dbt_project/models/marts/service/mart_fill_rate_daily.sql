-- Estimated fill rate per day, per location and company-wide. The data contract records no unmet
-- demand, so the units lost to stock-outs are estimated from each pair's recent demand rate.
-- One windowed pass over fct_daily_stock (a pair's days are contiguous, so 90 rows = 90 days),
-- then one aggregation; see _service__models.yml for the exact definition.
with daily_stock as (

    select
        {{ pair_of_day_key('daily_stock_key') }} as pair_hash,
        location_id,
        stock_date,
        issued_qty,
        is_active and is_stockout as is_lost_day,
        -- a day the pair could issue: stock left at the end of it, or issues during it
        case when on_hand > 0 or issued_qty > 0 then 1 else 0 end as is_supplied_day
    from {{ ref('fct_daily_stock') }}

),

rated as (

    select
        location_id,
        stock_date,
        issued_qty,
        is_lost_day,
        sum(issued_qty) over demand_window as issued_trailing,
        sum(is_supplied_day) over demand_window as supplied_days_trailing
    from daily_stock
    window demand_window as (
        partition by pair_hash
        order by stock_date
        rows between {{ var('fill_rate_demand_window_days') }} preceding and 1 preceding
    )

),

location_day as (

    select
        stock_date as fill_date,
        location_id,
        sum(issued_qty) as issued_units,
        sum(case
            when is_lost_day and supplied_days_trailing > 0
                then greatest(
                    cast(issued_trailing as {{ double_type() }}) / supplied_days_trailing
                        - issued_qty,
                    0
                )
            else 0
        end) as lost_units_estimate,
        count(case when is_lost_day then 1 end) as stockout_pair_days
    from rated
    group by stock_date, location_id

),

scoped as (

    select
        fill_date,
        'location' as scope_type,
        location_id as scope_id,
        issued_units,
        lost_units_estimate,
        stockout_pair_days
    from location_day

    union all

    select
        fill_date,
        'company' as scope_type,
        cast(null as {{ text_type() }}) as scope_id,
        sum(issued_units) as issued_units,
        sum(lost_units_estimate) as lost_units_estimate,
        sum(stockout_pair_days) as stockout_pair_days
    from location_day
    group by fill_date

)

select
    {{ surrogate_key(['scope_type', 'scope_id', 'fill_date']) }} as fill_rate_key,
    cast(fill_date as {{ date_type() }}) as fill_date,
    cast(scope_type as {{ text_type() }}) as scope_type,
    cast(scope_id as {{ text_type() }}) as scope_id,
    cast(issued_units as {{ int_type() }}) as issued_units,
    cast(lost_units_estimate as {{ double_type() }}) as lost_units_estimate,
    cast(stockout_pair_days as {{ int_type() }}) as stockout_pair_days,
    cast(
        issued_units / nullif(issued_units + lost_units_estimate, 0) as {{ double_type() }}
    ) as fill_rate,
    cast({{ var('target_fill_rate') }} as {{ double_type() }}) as fill_rate_target
from scoped
