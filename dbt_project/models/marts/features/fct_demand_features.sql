{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['part_id', 'location_id', 'demand_date'],
    on_schema_change='fail',
    post_hook="delete from {{ this }} where demand_date < {{ feature_first_day() }} or ({{ feature_scoring_date() }} - demand_date) % " ~ var('feature_origin_every_days') ~ " <> 0",
) }}
{#-
  Demand features per part, location and forecast origin. Every feature of day D uses only days
  before D. Rows: the scoring date S (the day after the data: features from every day, targets
  unknown) and the origins S - k * var feature_origin_every_days (7) within the last var
  feature_window_days (365) days, on days the pair has in fct_daily_demand; the forecaster trains
  on the origins and scores at S.
  Speed (see README "Marts: classification and features"): with origins every 7 days, every
  window (7, 14, 28, 56, 91 days, the 7/28-day targets) is a union of whole 7-day blocks
  S-7(b+1) .. S-7b-1, so the 13M daily rows are first reduced by one hash aggregation (no sort)
  to ~2M blocks (sum, sum of squares, min, max, days, demand days, last demand day and the
  quantities at the block positions the lags read), and the windows run over the blocks. With a
  step that is not a multiple of 7 the blocks are single days (same SQL, every day windowed).
  Only the kept rows get the calendar, holiday, attribute and class columns.
  Classes are monthly: one row per pair and month, from the 12 calendar months before it.
  Incremental: when S moved by a multiple of the step (the origins stay), a run recomputes the
  last var feature_reprocess_days stored days and every later day; otherwise (new origins) every
  row. It reads enough history before the first day it computes to compute exactly what a full
  refresh computes, and the post-hook drops rows that left the window or are no origin any more.
-#}
{%- set every = var('feature_origin_every_days') -%}
{%- set block_days = 7 if every % 7 == 0 else 1 -%}
{%- set lags = [1, 7, 14, 28, 56, 364] -%}
{%- set windows = [7, 14, 28, 56, 91] -%}
{#- Day D-L lies in the block ceil(L / block_days) before D's block, at position (L-1) % block
    days (0 = its last day); D itself is the first day of its block (position block_days - 1). -#}
{%- set positions = [] -%}
{%- for lag in lags %}{% if (lag - 1) % block_days not in positions %}{% do positions.append((lag - 1) % block_days) %}{% endif %}{% endfor -%}
{%- if (block_days - 1) not in positions %}{% do positions.append(block_days - 1) %}{% endif -%}

with bounds as (

    select
        scoring.scoring_date,
        {%- if is_incremental() %}
        case
            when (scoring.scoring_date - previous.scoring_date) % {{ every }} = 0
                then greatest({{ feature_first_day() }}, previous.scoring_date - {{ var('feature_reprocess_days') }})
            else {{ feature_first_day() }}
        end as first_day
        {%- else %}
        {{ feature_first_day() }} as first_day
        {%- endif %}
    from (select {{ feature_scoring_date() }} as scoring_date) as scoring
    {%- if is_incremental() %}
    cross join (select max(demand_date) as scoring_date from {{ this }}) as previous
    {%- endif %}

),

reading as (

    -- Lags go back 364 days, the classes to the first day of the month 12 months back.
    select
        scoring_date,
        first_day,
        cast({{ dbt.dateadd('month', -12, dbt.date_trunc('month', 'first_day')) }} as date) as first_read_day
    from bounds

),

pairs as (

    -- Integer pair numbers: the hash aggregation and the window sorts compare one integer
    -- instead of two texts. Every pair has a row on the last day (fct_daily_demand is
    -- zero-filled up to it).
    select
        part_id,
        location_id,
        row_number() over (order by part_id, location_id) as pair_number
    from {{ ref('fct_daily_demand') }}
    where demand_date = (select scoring_date - 1 from reading)

),

daily as (

    -- days_back: 0 on the last day of the data (S - 1); an integer, as date - integer is a date.
    select
        pairs.pair_number,
        demand.demand_date,
        demand.issued_qty as qty,
        cast((select scoring_date from reading) - 1 - demand.demand_date as integer) as days_back
    from {{ ref('fct_daily_demand') }} as demand
    inner join pairs
        on demand.part_id = pairs.part_id
        and demand.location_id = pairs.location_id
    where demand.demand_date >= (select first_read_day from reading)

),

pieces as (

    -- A block's days within one calendar month: one aggregation serves blocks and months.
    select
        pair_number,
        days_back - days_back % {{ block_days }} as block,
        cast({{ dbt.date_trunc('month', 'demand_date') }} as date) as month_start,
        count(*) as days,
        -- bigints, not 128-bit (DuckDB) or numeric (PostgreSQL) sums, through the windows below
        cast(sum(case when qty > 0 then 1 else 0 end) as {{ int_type() }}) as demand_days,
        cast(sum(qty) as {{ int_type() }}) as qty,
        cast(sum(qty * qty) as {{ int_type() }}) as qty_sq,
        min(qty) as min_qty,
        max(qty) as max_qty,
        max(case when qty > 0 then demand_date end) as last_demand_date,
        {%- for p in positions %}
        max(case when days_back % {{ block_days }} = {{ p }} then qty end) as qty_at_{{ p }}{{ ',' if not loop.last }}
        {%- endfor %}
    from daily
    group by
        pair_number,
        days_back - days_back % {{ block_days }},
        cast({{ dbt.date_trunc('month', 'demand_date') }} as date)

),

blocks as (

    select
        pair_number,
        block,
        cast(sum(days) as {{ int_type() }}) as days,
        cast(sum(demand_days) as {{ int_type() }}) as demand_days,
        cast(sum(qty) as {{ int_type() }}) as qty,
        cast(sum(qty_sq) as {{ int_type() }}) as qty_sq,
        min(min_qty) as min_qty,
        max(max_qty) as max_qty,
        max(last_demand_date) as last_demand_date,
        {%- for p in positions %}
        max(qty_at_{{ p }}) as qty_at_{{ p }}{{ ',' if not loop.last }}
        {%- endfor %}
    from pieces
    group by pair_number, block

    union all

    -- The scoring date's block (S .. S+block_days-1): no data yet, one per pair.
    select
        pair_number,
        -{{ block_days }} as block,
        0 as days,
        0 as demand_days,
        null as qty,
        null as qty_sq,
        null as min_qty,
        null as max_qty,
        null as last_demand_date,
        {%- for p in positions %}
        null as qty_at_{{ p }}{{ ',' if not loop.last }}
        {%- endfor %}
    from pieces
    where block = 0
    group by pair_number

),

windowed as (

    -- One row per block c; its origin D is c's first day, so D-w .. D-1 are the w/block_days
    -- blocks before c and D .. D+h-1 are c and the blocks after it. A pair's blocks are
    -- consecutive (fct_daily_demand is zero-filled), so rows are blocks.
    select
        pair_number,
        block,
        qty_at_{{ block_days - 1 }} as qty,
        {%- for lag in lags %}
        lag(qty_at_{{ (lag - 1) % block_days }}, {{ ((lag + block_days - 1) / block_days) | int }}) over pair_blocks as lag_{{ lag }}_qty,
        {%- endfor %}
        {%- for h in [7, 28] %}
        case when sum(days) over next_{{ h }} = {{ h }} then sum(qty) over next_{{ h }} end as next_{{ h }}_qty,
        {%- endfor %}
        {%- for w in windows %}
        cast(sum(days) over last_{{ w }} as {{ int_type() }}) as days_{{ w }},
        cast(sum(qty) over last_{{ w }} as {{ int_type() }}) as qty_{{ w }},
        cast(sum(qty_sq) over last_{{ w }} as {{ int_type() }}) as qty_sq_{{ w }},
        min(min_qty) over last_{{ w }} as min_{{ w }},
        max(max_qty) over last_{{ w }} as max_{{ w }},
        {%- endfor %}
        cast(sum(demand_days) over last_91 as {{ int_type() }}) as demand_days_91,
        max(last_demand_date) over last_91 as last_demand_91
    from blocks
    window
        pair_blocks as (partition by pair_number order by block desc),
        {%- for h in [7, 28] %}
        next_{{ h }} as (pair_blocks rows between current row and {{ (h / block_days) | int - 1 }} following),
        {%- endfor %}
        {%- for w in windows %}
        last_{{ w }} as (pair_blocks rows between {{ (w / block_days) | int }} preceding and 1 preceding){{ ',' if not loop.last }}
        {%- endfor %}

),

origins as (

    -- The scoring date, and the origins the pair has a day for (qty is its demand on D).
    select
        windowed.*,
        reading.scoring_date - windowed.block - {{ block_days }} as demand_date
    from windowed
    cross join reading
    where (windowed.block + {{ block_days }}) % {{ every }} = 0
        and reading.scoring_date - windowed.block - {{ block_days }} >= reading.first_day
        and (windowed.block = -{{ block_days }} or windowed.qty is not null)

),

months as (

    select
        pair_number,
        month_start,
        cast(sum(days) as {{ int_type() }}) as observed_days,
        cast(sum(demand_days) as {{ int_type() }}) as demand_days,
        cast(sum(qty) as {{ int_type() }}) as qty,
        cast(sum(qty_sq) as {{ int_type() }}) as qty_sq
    from pieces
    group by pair_number, month_start

    union all

    -- The scoring date's month when it starts after the data (its classes come from the 12
    -- months before it; a pair's months stay consecutive).
    select
        pair_number,
        cast({{ dbt.date_trunc('month', 'reading.scoring_date') }} as date) as month_start,
        0 as observed_days,
        0 as demand_days,
        0 as qty,
        0 as qty_sq
    from pieces
    cross join reading
    where pieces.block = 0
        and extract(day from reading.scoring_date) = 1
    group by pair_number, reading.scoring_date

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
    {%- for w in windows %}
    {%- set n = 'f.days_' ~ w %}
    cast(case when {{ n }} > 0 then cast(f.qty_{{ w }} as {{ double_type() }}) / {{ n }} end as {{ double_type() }}) as rolling_mean_{{ w }},
    cast(case
        when {{ n }} > 1
            then sqrt(cast({{ n }} * f.qty_sq_{{ w }} - f.qty_{{ w }} * f.qty_{{ w }} as {{ double_type() }}) / ({{ n }} * ({{ n }} - 1)))
    end as {{ double_type() }}) as rolling_std_{{ w }},
    cast(f.min_{{ w }} as {{ int_type() }}) as rolling_min_{{ w }},
    cast(f.max_{{ w }} as {{ int_type() }}) as rolling_max_{{ w }},
    cast(case when {{ n }} > 0 then f.qty_{{ w }} end as {{ int_type() }}) as rolling_sum_{{ w }},
    {%- endfor %}
    cast(f.demand_date - f.last_demand_91 as {{ int_type() }}) as days_since_last_demand,
    cast(case
        when f.days_91 > 0 then cast(f.days_91 - f.demand_days_91 as {{ double_type() }}) / f.days_91
    end as {{ double_type() }}) as zero_day_share_91,
    {{ calendar_columns('f.demand_date') }},
    holidays.holiday_date is not null as is_public_holiday,
    {{ pair_attribute_columns() }},
    monthly_classes.abc_class,
    monthly_classes.adi,
    monthly_classes.cv_squared,
    monthly_classes.demand_pattern
from origins as f
inner join pairs
    on f.pair_number = pairs.pair_number
inner join monthly_classes
    on f.pair_number = monthly_classes.pair_number
    and cast({{ dbt.date_trunc('month', 'f.demand_date') }} as date) = monthly_classes.month_start
left join parts
    on pairs.part_id = parts.part_id
left join locations
    on pairs.location_id = locations.location_id
left join holidays
    on f.demand_date = holidays.holiday_date
    and locations.country = holidays.country
