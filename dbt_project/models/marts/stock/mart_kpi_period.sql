-- mart_kpi_daily rolled up per ISO week (Monday start) and calendar month, per scope.
-- Rates over the period are ratios of summed numerators and denominators (stock-out rate,
-- inventory accuracy); stock levels are averaged over the period's days and also taken at its
-- last day; trailing-window KPIs (turnover, days of supply, carrying cost, obsolete share) are
-- those of the period's last day.
with daily as (

    select * from {{ ref('mart_kpi_daily') }}

),

periods as (

    select
        'week' as period_type,
        cast({{ dbt.date_trunc('week', 'kpi_date') }} as date) as period_start,
        daily.*
    from daily
    union all
    select
        'month' as period_type,
        cast({{ dbt.date_trunc('month', 'kpi_date') }} as date) as period_start,
        daily.*
    from daily

),

ranked as (

    select
        *,
        row_number() over (
            partition by period_type, period_start, scope_type, scope_id order by kpi_date desc
        ) as days_from_end
    from periods

),

totals as (

    select
        period_type,
        period_start,
        scope_type,
        scope_id,
        count(*) as days_covered,
        avg(inventory_value) as avg_inventory_value,
        sum(issued_qty) as issued_qty,
        sum(issue_cost) as issue_cost,
        sum(active_pair_days) as active_pair_days,
        sum(stockout_pair_days) as stockout_pair_days,
        sum(counts_checked) as counts_checked,
        sum(counts_accurate) as counts_accurate
    from periods
    group by period_type, period_start, scope_type, scope_id

)

select
    {{ surrogate_key(['totals.period_type', 'totals.period_start', 'totals.scope_type', 'totals.scope_id']) }}
        as kpi_period_key,
    cast(totals.period_type as {{ text_type() }}) as period_type,
    totals.period_start,
    period_end.kpi_date as period_end,
    totals.scope_type,
    totals.scope_id,
    cast(totals.days_covered as {{ int_type() }}) as days_covered,
    period_end.item_count,
    period_end.stocked_item_count,
    period_end.on_hand_units,
    period_end.inventory_value,
    cast(totals.avg_inventory_value as {{ money_type() }}) as avg_inventory_value,
    cast(totals.issued_qty as {{ int_type() }}) as issued_qty,
    cast(totals.issue_cost as {{ money_type() }}) as issue_cost,
    cast(totals.active_pair_days as {{ int_type() }}) as active_pair_days,
    cast(totals.stockout_pair_days as {{ int_type() }}) as stockout_pair_days,
    case
        when totals.active_pair_days > 0
            then cast(totals.stockout_pair_days as {{ double_type() }}) / totals.active_pair_days
    end as stockout_rate,
    period_end.stockout_rate_target,
    period_end.inventory_turnover,
    period_end.inventory_turnover_target,
    period_end.days_of_supply,
    period_end.carrying_cost,
    period_end.carrying_cost_share,
    period_end.carrying_cost_share_target,
    period_end.obsolete_value,
    period_end.obsolete_share,
    period_end.slow_moving_value,
    period_end.slow_moving_share,
    period_end.obsolete_share_target,
    cast(totals.counts_checked as {{ int_type() }}) as counts_checked,
    cast(totals.counts_accurate as {{ int_type() }}) as counts_accurate,
    case
        when totals.counts_checked > 0
            then cast(totals.counts_accurate as {{ double_type() }}) / totals.counts_checked
    end as inventory_accuracy,
    period_end.inventory_accuracy_target
from totals
inner join ranked as period_end
    on totals.period_type = period_end.period_type
    and totals.period_start = period_end.period_start
    and totals.scope_type = period_end.scope_type
    and (totals.scope_id = period_end.scope_id
        or (totals.scope_id is null and period_end.scope_id is null))
    and period_end.days_from_end = 1
