-- Headline stock KPIs per day and scope (company, location, region, category) with their targets.
-- Trailing windows are differences of running totals: x over the N days ending at d =
-- S(d) - S(d - N), S the scope's cumulative daily sum (a scope's days are contiguous from its
-- first day to ledger_end_date, so lag(S, N) is day d - N); N = var('turnover_window_days') for
-- turnover and carrying cost, var('days_of_supply_window_days') for days of supply. Before a scope
-- has N days of history the window holds the days it has, and annualized values use that length.
with daily_stock as (

    select * from {{ ref('fct_daily_stock') }}

),

pairs as (

    select
        movement.part_id,
        movement.location_id,
        movement.first_activity_date,
        movement.category_id,
        movement.region
    from {{ ref('fct_stock_movement') }} as movement

),

stock_grain as (

    select
        daily_stock.stock_date,
        daily_stock.location_id,
        pairs.region,
        pairs.category_id,
        count(*) as item_count,
        count(case when daily_stock.on_hand > 0 then 1 end) as stocked_item_count,
        count(case when daily_stock.is_active then 1 end) as active_pair_days,
        count(case when daily_stock.is_active and daily_stock.is_stockout then 1 end)
            as stockout_pair_days,
        sum(daily_stock.on_hand) as on_hand_units,
        sum(daily_stock.inventory_value) as inventory_value,
        sum(daily_stock.issued_qty) as issued_qty,
        sum(daily_stock.issued_qty * daily_stock.unit_cost) as issue_cost,
        -- days without issue: from the last ISSUE, or from the pair's first day if none yet
        sum(case
            when daily_stock.on_hand > 0
                and daily_stock.stock_date - coalesce(daily_stock.last_issue_date, pairs.first_activity_date)
                    >= {{ var('obsolete_after_days') }}
                then daily_stock.inventory_value else 0
        end) as obsolete_value,
        sum(case
            when daily_stock.on_hand > 0
                and daily_stock.stock_date - coalesce(daily_stock.last_issue_date, pairs.first_activity_date)
                    >= {{ var('slow_moving_after_days') }}
                and daily_stock.stock_date - coalesce(daily_stock.last_issue_date, pairs.first_activity_date)
                    < {{ var('obsolete_after_days') }}
                then daily_stock.inventory_value else 0
        end) as slow_moving_value
    from daily_stock
    inner join pairs
        on daily_stock.part_id = pairs.part_id
        and daily_stock.location_id = pairs.location_id
    group by daily_stock.stock_date, daily_stock.location_id, pairs.region, pairs.category_id

),

count_grain as (

    select
        counts.count_date,
        counts.location_id,
        pairs.region,
        pairs.category_id,
        count(*) as counts_checked,
        count(case when counts.is_accurate then 1 end) as counts_accurate
    from {{ ref('fct_stock_counts') }} as counts
    inner join pairs
        on counts.part_id = pairs.part_id
        and counts.location_id = pairs.location_id
    group by counts.count_date, counts.location_id, pairs.region, pairs.category_id

),

grain as (

    select
        stock_grain.*,
        coalesce(count_grain.counts_checked, 0) as counts_checked,
        coalesce(count_grain.counts_accurate, 0) as counts_accurate
    from stock_grain
    left join count_grain
        on stock_grain.stock_date = count_grain.count_date
        and stock_grain.location_id = count_grain.location_id
        and (stock_grain.region = count_grain.region
            or (stock_grain.region is null and count_grain.region is null))
        and (stock_grain.category_id = count_grain.category_id
            or (stock_grain.category_id is null and count_grain.category_id is null))

),

scoped as (

    select
        stock_date as kpi_date,
        case
            when grouping(location_id) = 0 then 'location'
            when grouping(region) = 0 then 'region'
            when grouping(category_id) = 0 then 'category'
            else 'company'
        end as scope_type,
        case
            when grouping(location_id) = 0 then location_id
            when grouping(region) = 0 then region
            when grouping(category_id) = 0 then category_id
        end as scope_id,
        sum(item_count) as item_count,
        sum(stocked_item_count) as stocked_item_count,
        sum(active_pair_days) as active_pair_days,
        sum(stockout_pair_days) as stockout_pair_days,
        sum(on_hand_units) as on_hand_units,
        coalesce(sum(inventory_value), 0) as inventory_value,
        sum(issued_qty) as issued_qty,
        coalesce(sum(issue_cost), 0) as issue_cost,
        coalesce(sum(obsolete_value), 0) as obsolete_value,
        coalesce(sum(slow_moving_value), 0) as slow_moving_value,
        sum(counts_checked) as counts_checked,
        sum(counts_accurate) as counts_accurate
    from grain
    group by grouping sets (
        (stock_date),
        (stock_date, location_id),
        (stock_date, region),
        (stock_date, category_id)
    )

),

running as (

    select
        *,
        row_number() over scope_days as day_number,
        sum(inventory_value) over scope_days as cumulative_value,
        sum(issue_cost) over scope_days as cumulative_issue_cost
    from scoped
    window scope_days as (
        partition by scope_type, scope_id
        order by kpi_date
        rows between unbounded preceding and current row
    )

),

trailing_windows as (

    select
        *,
        least(day_number, {{ var('turnover_window_days') }}) as turnover_window_days,
        least(day_number, {{ var('days_of_supply_window_days') }}) as supply_window_days,
        cumulative_value - coalesce(lag(cumulative_value, {{ var('turnover_window_days') }}) over scope_days, 0) as value_sum_window,
        cumulative_issue_cost - coalesce(lag(cumulative_issue_cost, {{ var('turnover_window_days') }}) over scope_days, 0)
            as issue_cost_window_sum,
        cumulative_issue_cost - coalesce(lag(cumulative_issue_cost, {{ var('days_of_supply_window_days') }}) over scope_days, 0)
            as issue_cost_supply_window
    from running
    window scope_days as (partition by scope_type, scope_id order by kpi_date)

)

select
    {{ surrogate_key(['scope_type', 'scope_id', 'kpi_date']) }} as kpi_daily_key,
    kpi_date,
    cast(scope_type as {{ text_type() }}) as scope_type,
    cast(scope_id as {{ text_type() }}) as scope_id,
    cast(item_count as {{ int_type() }}) as item_count,
    cast(stocked_item_count as {{ int_type() }}) as stocked_item_count,
    cast(on_hand_units as {{ int_type() }}) as on_hand_units,
    cast(inventory_value as {{ money_type() }}) as inventory_value,
    cast(issued_qty as {{ int_type() }}) as issued_qty,
    cast(issue_cost as {{ money_type() }}) as issue_cost,
    cast(active_pair_days as {{ int_type() }}) as active_pair_days,
    cast(stockout_pair_days as {{ int_type() }}) as stockout_pair_days,
    case
        when active_pair_days > 0
            then cast(stockout_pair_days as {{ double_type() }}) / active_pair_days
    end as stockout_rate,
    cast({{ var('target_stockout_rate') }} as {{ double_type() }}) as stockout_rate_target,
    cast(turnover_window_days as {{ int_type() }}) as turnover_window_days,
    cast(value_sum_window / turnover_window_days as {{ money_type() }}) as avg_inventory_value_window,
    cast(issue_cost_window_sum as {{ money_type() }}) as issue_cost_window,
    case
        when value_sum_window > 0
            then cast(issue_cost_window_sum as {{ double_type() }}) * 365
                / cast(value_sum_window as {{ double_type() }})
    end as inventory_turnover,
    cast({{ var('target_inventory_turnover') }} as {{ double_type() }}) as inventory_turnover_target,
    case
        when issue_cost_supply_window > 0
            then cast(inventory_value as {{ double_type() }})
                / (cast(issue_cost_supply_window as {{ double_type() }}) / supply_window_days)
    end as days_of_supply,
    cast(value_sum_window / turnover_window_days * {{ var('holding_rate') }} as {{ money_type() }})
        as carrying_cost,
    case
        when issue_cost_window_sum > 0
            then cast(value_sum_window as {{ double_type() }}) * {{ var('holding_rate') }}
                / cast(issue_cost_window_sum as {{ double_type() }}) / 365
    end as carrying_cost_share,
    cast({{ var('target_carrying_cost_share') }} as {{ double_type() }}) as carrying_cost_share_target,
    cast(obsolete_value as {{ money_type() }}) as obsolete_value,
    cast(slow_moving_value as {{ money_type() }}) as slow_moving_value,
    case
        when inventory_value > 0
            then cast(obsolete_value as {{ double_type() }}) / cast(inventory_value as {{ double_type() }})
    end as obsolete_share,
    case
        when inventory_value > 0
            then cast(slow_moving_value as {{ double_type() }}) / cast(inventory_value as {{ double_type() }})
    end as slow_moving_share,
    cast({{ var('target_obsolete_share') }} as {{ double_type() }}) as obsolete_share_target,
    cast(counts_checked as {{ int_type() }}) as counts_checked,
    cast(counts_accurate as {{ int_type() }}) as counts_accurate,
    case
        when counts_checked > 0
            then cast(counts_accurate as {{ double_type() }}) / counts_checked
    end as inventory_accuracy,
    cast({{ var('target_inventory_accuracy') }} as {{ double_type() }}) as inventory_accuracy_target
from trailing_windows
