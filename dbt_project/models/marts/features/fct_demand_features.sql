{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['part_id', 'location_id', 'demand_date'],
    on_schema_change='fail',
    post_hook="delete from {{ this }} where demand_date < {{ feature_first_day() }}",
) }}
{#-
  Demand features per part, location and day. Every feature of day D uses only days before D.
  Speed (see README "Marts: classification and features"): the pairs get integer numbers, so the
  window sorts compare integers, not text; every window shares one ordering (WINDOW pair_days).
  Only the 7-day window is framed (sum, sum of squares, min, max; plus demand days and the last
  demand day over 91 days); the 14/28/56/91-day windows are unions of 7-day blocks read back with
  lag() (D-1..D-7, D-8..D-14, ...), a few lags instead of a framed aggregate per window, and the
  wide columns (lags, targets) are added in the last pass only, so fewer columns go through
  each sort.
  Classes are monthly: one row per pair and month, from the 12 calendar months before it.
  Days computed: the last var feature_window_days days of the data (null = all); an incremental
  run recomputes the last feature_reprocess_days stored days (their targets were incomplete) and
  every later day; it reads enough history before the first day it computes to compute exactly
  what a full refresh computes, and the post-hook drops days that fell out of the window.
-#}
{%- set lags = [1, 7, 14, 28, 56, 364] -%}
{%- set stats = ['qty', 'qty_sq'] -%}

with bounds as (

    select
        {%- if is_incremental() %}
        greatest({{ feature_first_day() }}, (select max(demand_date) from {{ this }}) - {{ var('feature_reprocess_days') }}) as first_day
        {%- else %}
        {{ feature_first_day() }} as first_day
        {%- endif %}

),

reading as (

    -- Lags go back 364 days, the classes to the first day of the month 12 months back.
    select
        first_day,
        cast({{ dbt.dateadd('month', -12, dbt.date_trunc('month', 'first_day')) }} as date) as first_read_day
    from bounds

),

demand as (

    select
        part_id,
        location_id,
        demand_date,
        issued_qty as qty
    from {{ ref('fct_daily_demand') }}
    where demand_date >= (select first_read_day from reading)

),

pairs as (

    select
        part_id,
        location_id,
        min(demand_date) as first_read_date,
        row_number() over (order by part_id, location_id) as pair_number
    from demand
    group by part_id, location_id

),

series as (

    select
        pairs.pair_number,
        demand.demand_date,
        demand.qty,
        demand.demand_date - pairs.first_read_date as days_before
    from demand
    inner join pairs
        on demand.part_id = pairs.part_id
        and demand.location_id = pairs.location_id

),

week_blocks as (

    select
        pair_number,
        demand_date,
        qty,
        days_before,
        sum(qty) over last_7 as qty_7,
        sum(qty * qty) over last_7 as qty_sq_7,
        min(qty) over last_7 as min_7,
        max(qty) over last_7 as max_7,
        sum(case when qty > 0 then 1 else 0 end) over last_91 as demand_days_91,
        max(case when qty > 0 then demand_date end) over last_91 as last_demand_91
    from series
    window
        pair_days as (partition by pair_number order by demand_date),
        last_7 as (pair_days rows between 7 preceding and 1 preceding),
        last_91 as (pair_days rows between 91 preceding and 1 preceding)

),

four_weeks as (

    -- D-1..D-14 = block(D) + block(D-7); D-1..D-28 adds block(D-14) and block(D-21). A block
    -- before the pair's first day is NULL: coalesce for sums, least/greatest skip NULLs.
    select
        week_blocks.*,
        {%- for stat in stats %}
        {{ stat }}_7 + coalesce(lag({{ stat }}_7, 7) over pair_days, 0) as {{ stat }}_14,
        {{ stat }}_7 + coalesce(lag({{ stat }}_7, 7) over pair_days, 0)
            + coalesce(lag({{ stat }}_7, 14) over pair_days, 0)
            + coalesce(lag({{ stat }}_7, 21) over pair_days, 0) as {{ stat }}_28,
        {%- endfor %}
        {%- for fn, stat in [('least', 'min'), ('greatest', 'max')] %}
        {{ fn }}({{ stat }}_7, lag({{ stat }}_7, 7) over pair_days) as {{ stat }}_14,
        {{ fn }}({{ stat }}_7, lag({{ stat }}_7, 7) over pair_days, lag({{ stat }}_7, 14) over pair_days,
            lag({{ stat }}_7, 21) over pair_days) as {{ stat }}_28{{ ',' if not loop.last }}
        {%- endfor %}
    from week_blocks
    window pair_days as (partition by pair_number order by demand_date)

),

thirteen_weeks as (

    -- D-1..D-56 = 28(D) + 28(D-28); D-1..D-91 = 28(D) + 28(D-28) + 28(D-56) + 7(D-84).
    select
        four_weeks.*,
        {%- for lag in lags %}
        lag(qty, {{ lag }}) over pair_days as lag_{{ lag }}_qty,
        {%- endfor %}
        case when lead(qty, 6) over pair_days is not null
            then sum(qty) over (pair_days rows between current row and 6 following) end as next_7_qty,
        case when lead(qty, 27) over pair_days is not null
            then sum(qty) over (pair_days rows between current row and 27 following) end as next_28_qty,
        {%- for stat in stats %}
        {{ stat }}_28 + coalesce(lag({{ stat }}_28, 28) over pair_days, 0) as {{ stat }}_56,
        {{ stat }}_28 + coalesce(lag({{ stat }}_28, 28) over pair_days, 0)
            + coalesce(lag({{ stat }}_28, 56) over pair_days, 0)
            + coalesce(lag({{ stat }}_7, 84) over pair_days, 0) as {{ stat }}_91,
        {%- endfor %}
        {%- for fn, stat in [('least', 'min'), ('greatest', 'max')] %}
        {{ fn }}({{ stat }}_28, lag({{ stat }}_28, 28) over pair_days) as {{ stat }}_56,
        {{ fn }}({{ stat }}_28, lag({{ stat }}_28, 28) over pair_days, lag({{ stat }}_28, 56) over pair_days,
            lag({{ stat }}_7, 84) over pair_days) as {{ stat }}_91{{ ',' if not loop.last }}
        {%- endfor %}
    from four_weeks
    window pair_days as (partition by pair_number order by demand_date)

),

months as (

    select
        pair_number,
        cast({{ dbt.date_trunc('month', 'demand_date') }} as date) as month_start,
        count(*) as observed_days,
        count(case when qty > 0 then 1 end) as demand_days,
        sum(qty) as qty,
        sum(qty * qty) as qty_sq
    from series
    group by pair_number, cast({{ dbt.date_trunc('month', 'demand_date') }} as date)

),

trailing_year as (

    -- The 12 calendar months before each month (a pair's months are consecutive).
    select
        months.pair_number,
        months.month_start,
        pairs.part_id,
        pairs.location_id,
        {%- for col in ['observed_days', 'demand_days', 'qty', 'qty_sq'] %}
        coalesce(sum({{ col }}) over last_12_months, 0) as {{ col }}_12m{{ ',' if not loop.last }}
        {%- endfor %}
    from months
    inner join pairs
        on months.pair_number = pairs.pair_number
    window last_12_months as (
        partition by months.pair_number order by months.month_start
        rows between 12 preceding and 1 preceding
    )

),

monthly_classes as (

    select
        trailing_year.pair_number,
        trailing_year.month_start,
        {{ adi('observed_days_12m', 'demand_days_12m') }} as adi,
        {{ cv_squared('demand_days_12m', 'qty_12m', 'qty_sq_12m') }} as cv_squared,
        {{ demand_pattern('demand_days_12m', adi('observed_days_12m', 'demand_days_12m'), cv_squared('demand_days_12m', 'qty_12m', 'qty_sq_12m')) }} as demand_pattern,
        {{ abc_class(value_share_before('qty_12m * coalesce(parts.unit_cost, 0)', 'trailing_year.location_id, trailing_year.month_start', 'trailing_year.part_id')) }} as abc_class
    from trailing_year
    left join {{ ref('int_parts_enriched') }} as parts
        on trailing_year.part_id = parts.part_id

),

calendar as (

    select
        cast(day_ts as date) as calendar_date,
        cast({{ dbt.date_trunc('month', 'day_ts') }} as date) as month_start,
        {{ calendar_columns('cast(day_ts as date)') }}
    from generate_series(
        (select cast(first_day as timestamp) from bounds),
        (select cast(max(demand_date) as timestamp) from series),
        interval '1 day'
    ) as days (day_ts)

),

parts as (

    select * from {{ ref('int_parts_enriched') }}

),

locations as (

    select * from {{ ref('stg_inventory__locations') }}

),

holidays as (

    select * from {{ ref('public_holidays') }}

)

select
    pairs.part_id,
    pairs.location_id,
    f.demand_date,
    cast(f.qty as {{ int_type() }}) as target_qty,
    cast(f.next_7_qty as {{ int_type() }}) as target_next_7_qty,
    cast(f.next_28_qty as {{ int_type() }}) as target_next_28_qty,
    {%- for lag in lags %}
    cast(f.lag_{{ lag }}_qty as {{ int_type() }}) as lag_{{ lag }}_qty,
    {%- endfor %}
    {%- for w in [7, 14, 28, 56, 91] %}
    {%- set n = 'least(' ~ w ~ ', f.days_before)' %}
    cast(case when f.days_before > 0 then cast(f.qty_{{ w }} as {{ double_type() }}) / {{ n }} end as {{ double_type() }}) as rolling_mean_{{ w }},
    cast(case
        when f.days_before > 1
            then sqrt(cast({{ n }} * f.qty_sq_{{ w }} - f.qty_{{ w }} * f.qty_{{ w }} as {{ double_type() }}) / ({{ n }} * ({{ n }} - 1)))
    end as {{ double_type() }}) as rolling_std_{{ w }},
    cast(f.min_{{ w }} as {{ int_type() }}) as rolling_min_{{ w }},
    cast(f.max_{{ w }} as {{ int_type() }}) as rolling_max_{{ w }},
    cast(case when f.days_before > 0 then f.qty_{{ w }} end as {{ int_type() }}) as rolling_sum_{{ w }},
    {%- endfor %}
    cast(f.demand_date - f.last_demand_91 as {{ int_type() }}) as days_since_last_demand,
    cast(case
        when f.days_before > 0
            then cast(least(91, f.days_before) - f.demand_days_91 as {{ double_type() }}) / least(91, f.days_before)
    end as {{ double_type() }}) as zero_day_share_91,
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
    monthly_classes.abc_class,
    monthly_classes.adi,
    monthly_classes.cv_squared,
    monthly_classes.demand_pattern
from thirteen_weeks as f
inner join pairs
    on f.pair_number = pairs.pair_number
inner join calendar
    on f.demand_date = calendar.calendar_date
inner join monthly_classes
    on f.pair_number = monthly_classes.pair_number
    and calendar.month_start = monthly_classes.month_start
left join parts
    on pairs.part_id = parts.part_id
left join locations
    on pairs.location_id = locations.location_id
left join holidays
    on f.demand_date = holidays.holiday_date
    and locations.country = holidays.country
