{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['part_id', 'location_id', 'demand_date'],
    on_schema_change='fail',
) }}
{#-
  Demand features per part, location and day. Every feature of day D uses only days before D.
  Speed: one sort per pair feeds every running aggregate (one WINDOW clause); window sums, means
  and standard deviations are differences of running sums of x and x² (exact integers), so only
  min/max need framed windows. A second pass over the same ordering reads the running sums at
  fixed row offsets (the series is zero-filled, so a row offset is a day offset).
  Days computed: from var feature_start_date (null = each pair's whole history); an incremental
  run recomputes the last feature_reprocess_days stored days (their targets were incomplete) and
  every later day, reading `lookback` days of history before the first day it computes, so that
  it computes exactly what a full refresh computes.
-#}
{%- set lags = [1, 7, 14, 28, 56, 364] -%}
{%- set windows = [7, 14, 28, 56, 91] -%}
{%- set lookback = 365 -%}
{%- set start = "cast('" ~ var('feature_start_date') ~ "' as date)" if var('feature_start_date') else "cast('1900-01-01' as date)" -%}

with bounds as (

    select
        {%- if is_incremental() %}
        greatest({{ start }}, (select max(demand_date) from {{ this }}) - {{ var('feature_reprocess_days') }}) as first_day
        {%- else %}
        {{ start }} as first_day
        {%- endif %}

),

demand as (

    select
        part_id,
        location_id,
        demand_date,
        issued_qty as qty
    from {{ ref('fct_daily_demand') }}
    where demand_date >= (select first_day from bounds) - {{ lookback }}

),

running as (

    select
        part_id,
        location_id,
        demand_date,
        qty,
        row_number() over pair_days as day_number,
        sum(qty) over pair_days as cum_qty,
        sum(qty * qty) over pair_days as cum_qty_sq,
        sum(case when qty > 0 then 1 else 0 end) over pair_days as cum_demand_days,
        max(case when qty > 0 then demand_date end) over (
            pair_days rows between unbounded preceding and 1 preceding
        ) as last_demand_date,
        {%- for lag in lags %}
        lag(qty, {{ lag }}) over pair_days as lag_{{ lag }}_qty,
        {%- endfor %}
        {%- for w in windows %}
        min(qty) over (pair_days rows between {{ w }} preceding and 1 preceding) as rolling_min_{{ w }},
        max(qty) over (pair_days rows between {{ w }} preceding and 1 preceding) as rolling_max_{{ w }}{{ ',' if not loop.last }}
        {%- endfor %}
    from demand
    window pair_days as (partition by part_id, location_id order by demand_date)

),

shifted as (

    -- Running sums up to yesterday (cum - today) minus those up to w + 1 days ago (lag w + 1)
    -- are the sums over the w days before today.
    select
        running.*,
        cum_qty - qty as qty_before,
        cum_qty_sq - qty * qty as qty_sq_before,
        cum_demand_days - case when qty > 0 then 1 else 0 end as demand_days_before,
        {%- for w in windows + [lookback] %}
        coalesce(lag(cum_qty, {{ w + 1 }}) over pair_days, 0) as qty_upto_{{ w + 1 }},
        coalesce(lag(cum_qty_sq, {{ w + 1 }}) over pair_days, 0) as qty_sq_upto_{{ w + 1 }},
        {%- endfor %}
        coalesce(lag(cum_demand_days, 92) over pair_days, 0) as demand_days_upto_92,
        coalesce(lag(cum_demand_days, {{ lookback + 1 }}) over pair_days, 0) as demand_days_upto_{{ lookback + 1 }},
        lead(cum_qty, 6) over pair_days as cum_qty_plus_6,
        lead(cum_qty, 27) over pair_days as cum_qty_plus_27
    from running
    window pair_days as (partition by part_id, location_id order by demand_date)

),

windowed as (

    select
        part_id,
        location_id,
        demand_date,
        qty,
        cum_qty_plus_6 - qty_before as next_7_qty,
        cum_qty_plus_27 - qty_before as next_28_qty,
        {%- for lag in lags %}
        lag_{{ lag }}_qty,
        {%- endfor %}
        {%- for w in windows %}
        least({{ w }}, day_number - 1) as days_{{ w }},
        qty_before - qty_upto_{{ w + 1 }} as sum_{{ w }},
        qty_sq_before - qty_sq_upto_{{ w + 1 }} as sum_sq_{{ w }},
        rolling_min_{{ w }},
        rolling_max_{{ w }},
        {%- endfor %}
        least(91, day_number - 1) - (demand_days_before - demand_days_upto_92) as zero_days_91,
        least({{ lookback }}, day_number - 1) as days_{{ lookback }},
        demand_days_before - demand_days_upto_{{ lookback + 1 }} as demand_days_{{ lookback }},
        qty_before - qty_upto_{{ lookback + 1 }} as sum_{{ lookback }},
        qty_sq_before - qty_sq_upto_{{ lookback + 1 }} as sum_sq_{{ lookback }},
        -- Older demand may lie before the rows read; not reporting it keeps full and incremental
        -- runs equal.
        case
            when last_demand_date >= demand_date - {{ lookback }} then last_demand_date
        end as last_demand_date
    from shifted
    where demand_date >= (select first_day from bounds)

),

parts as (

    select * from {{ ref('int_parts_enriched') }}

),

locations as (

    select * from {{ ref('stg_inventory__locations') }}

),

holidays as (

    select * from {{ ref('public_holidays') }}

),

calendar as (

    select
        cast(day_ts as date) as calendar_date,
        {{ calendar_columns('cast(day_ts as date)') }}
    from generate_series(
        (select cast(min(demand_date) as timestamp) from windowed),
        (select cast(max(demand_date) as timestamp) from windowed),
        interval '1 day'
    ) as days (day_ts)

),

classified as (

    select
        windowed.*,
        {{ adi('days_' ~ lookback, 'demand_days_' ~ lookback) }} as adi,
        {{ cv_squared('demand_days_' ~ lookback, 'sum_' ~ lookback, 'sum_sq_' ~ lookback) }} as cv_squared,
        {{ value_share_before('sum_' ~ lookback ~ ' * coalesce(parts.unit_cost, 0)', 'windowed.location_id, windowed.demand_date', 'windowed.part_id') }}
            as value_share_before
    from windowed
    left join parts
        on windowed.part_id = parts.part_id

)

select
    classified.part_id,
    classified.location_id,
    classified.demand_date,
    cast(classified.qty as {{ int_type() }}) as target_qty,
    cast(classified.next_7_qty as {{ int_type() }}) as target_next_7_qty,
    cast(classified.next_28_qty as {{ int_type() }}) as target_next_28_qty,
    {%- for lag in lags %}
    cast(classified.lag_{{ lag }}_qty as {{ int_type() }}) as lag_{{ lag }}_qty,
    {%- endfor %}
    {%- for w in windows %}
    cast(case when days_{{ w }} > 0 then cast(sum_{{ w }} as {{ double_type() }}) / days_{{ w }} end as {{ double_type() }}) as rolling_mean_{{ w }},
    cast(case
        when days_{{ w }} > 1
            then sqrt(cast(days_{{ w }} * sum_sq_{{ w }} - sum_{{ w }} * sum_{{ w }} as {{ double_type() }}) / (days_{{ w }} * (days_{{ w }} - 1)))
    end as {{ double_type() }}) as rolling_std_{{ w }},
    cast(rolling_min_{{ w }} as {{ int_type() }}) as rolling_min_{{ w }},
    cast(rolling_max_{{ w }} as {{ int_type() }}) as rolling_max_{{ w }},
    cast(case when days_{{ w }} > 0 then sum_{{ w }} end as {{ int_type() }}) as rolling_sum_{{ w }},
    {%- endfor %}
    cast(classified.demand_date - classified.last_demand_date as {{ int_type() }}) as days_since_last_demand,
    cast(case when days_91 > 0 then cast(zero_days_91 as {{ double_type() }}) / days_91 end as {{ double_type() }}) as zero_day_share_91,
    calendar.day_of_week,
    calendar.day_of_month,
    calendar.day_of_year,
    calendar.iso_week,
    calendar.month,
    calendar.quarter,
    calendar.year,
    calendar.is_weekend,
    calendar.is_month_start,
    calendar.is_month_end,
    calendar.day_of_week_sin,
    calendar.day_of_week_cos,
    calendar.month_sin,
    calendar.month_cos,
    calendar.day_of_year_sin,
    calendar.day_of_year_cos,
    holidays.holiday_date is not null as is_public_holiday,
    parts.category_id,
    parts.supplier_id,
    parts.unit_cost,
    parts.unit_price,
    cast(parts.effective_lead_time_days as {{ int_type() }}) as lead_time_days,
    locations.location_type,
    locations.region,
    locations.country,
    locations.climate_zone,
    {{ abc_class('classified.value_share_before') }} as abc_class,
    classified.adi,
    classified.cv_squared,
    {{ demand_pattern('classified.demand_days_' ~ lookback, 'classified.adi', 'classified.cv_squared') }} as demand_pattern
from classified
inner join calendar
    on classified.demand_date = calendar.calendar_date
left join parts
    on classified.part_id = parts.part_id
left join locations
    on classified.location_id = locations.location_id
left join holidays
    on classified.demand_date = holidays.holiday_date
    and locations.country = holidays.country
