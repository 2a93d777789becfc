-- Weekly demand features per part, location and ISO week (Monday start): only the pair's
-- complete weeks (7 days in fct_daily_demand, so a pair's first partial week and an unfinished
-- last week are left out). Every feature of week W uses only weeks before W. Small (a seventh of
-- the daily rows), so a plain table over the whole history with framed windows.
{% set lags = [1, 2, 4, 8, 52] -%}
{%- set windows = [4, 8, 13] -%}

with weeks as (

    select
        part_id,
        location_id,
        cast({{ dbt.date_trunc('week', 'demand_date') }} as date) as week_start,
        count(*) as days_in_week,
        -- bigint, not the 128-bit (DuckDB) or numeric (PostgreSQL) sum, through the windows
        cast(sum(issued_qty) as {{ int_type() }}) as qty
    from {{ ref('fct_daily_demand') }}
    group by part_id, location_id, cast({{ dbt.date_trunc('week', 'demand_date') }} as date)

),

complete_weeks as (

    select * from weeks where days_in_week = 7

),

windowed as (

    select
        part_id,
        location_id,
        week_start,
        qty,
        case when lead(qty, 3) over pair_weeks is not null
            then sum(qty) over (pair_weeks rows between current row and 3 following) end as next_4_qty,
        {%- for lag in lags %}
        lag(qty, {{ lag }}) over pair_weeks as lag_{{ lag }}_qty,
        {%- endfor %}
        {%- for w in windows %}
        count(qty) over (pair_weeks rows between {{ w }} preceding and 1 preceding) as weeks_{{ w }},
        sum(qty) over (pair_weeks rows between {{ w }} preceding and 1 preceding) as sum_{{ w }},
        stddev_samp(qty) over (pair_weeks rows between {{ w }} preceding and 1 preceding) as std_{{ w }},
        min(qty) over (pair_weeks rows between {{ w }} preceding and 1 preceding) as min_{{ w }},
        max(qty) over (pair_weeks rows between {{ w }} preceding and 1 preceding) as max_{{ w }}{{ ',' if not loop.last }}
        {%- endfor %}
    from complete_weeks
    window pair_weeks as (partition by part_id, location_id order by week_start)

),

holiday_weeks as (

    select
        country,
        cast({{ dbt.date_trunc('week', 'holiday_date') }} as date) as week_start,
        count(*) as holidays
    from {{ ref('public_holidays') }}
    group by country, cast({{ dbt.date_trunc('week', 'holiday_date') }} as date)

),

parts as (

    select * from {{ ref('int_parts_enriched') }}

),

locations as (

    select * from {{ ref('stg_inventory__locations') }}

)

select
    windowed.part_id,
    windowed.location_id,
    windowed.week_start,
    cast(windowed.qty as {{ int_type() }}) as target_qty,
    cast(windowed.next_4_qty as {{ int_type() }}) as target_next_4_weeks_qty,
    {%- for lag in lags %}
    cast(windowed.lag_{{ lag }}_qty as {{ int_type() }}) as lag_{{ lag }}_qty,
    {%- endfor %}
    {%- for w in windows %}
    cast(case when weeks_{{ w }} > 0 then cast(sum_{{ w }} as {{ double_type() }}) / weeks_{{ w }} end as {{ double_type() }}) as rolling_mean_{{ w }},
    cast(std_{{ w }} as {{ double_type() }}) as rolling_std_{{ w }},
    cast(min_{{ w }} as {{ int_type() }}) as rolling_min_{{ w }},
    cast(max_{{ w }} as {{ int_type() }}) as rolling_max_{{ w }},
    cast(sum_{{ w }} as {{ int_type() }}) as rolling_sum_{{ w }},
    {%- endfor %}
    cast(extract(week from windowed.week_start) as {{ int_type() }}) as iso_week,
    cast(extract(month from windowed.week_start) as {{ int_type() }}) as month,
    cast(extract(quarter from windowed.week_start) as {{ int_type() }}) as quarter,
    cast(extract(year from windowed.week_start) as {{ int_type() }}) as year,
    {{ cyclical('extract(week from windowed.week_start) - 1', 53, 'iso_week') }},
    cast(coalesce(holiday_weeks.holidays, 0) as {{ int_type() }}) as public_holidays_in_week,
    {{ pair_attribute_columns() }}
from windowed
left join parts
    on windowed.part_id = parts.part_id
left join locations
    on windowed.location_id = locations.location_id
left join holiday_weeks
    on locations.country = holiday_weeks.country
    and windowed.week_start = holiday_weeks.week_start
