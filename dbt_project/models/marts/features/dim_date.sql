-- One row per calendar day and country of the public_holidays seed, over the seed's whole years.
with holidays as (

    select * from {{ ref('public_holidays') }}

),

days as (

    select cast(calendar_ts as date) as calendar_date
    from generate_series(
        (select cast({{ dbt.date_trunc('year', 'min(holiday_date)') }} as timestamp) from holidays),
        (select cast({{ dbt.date_trunc('year', 'max(holiday_date)') }} as timestamp) from holidays)
            + interval '1 year' - interval '1 day',
        interval '1 day'
    ) as series (calendar_ts)

),

countries as (

    select distinct country from holidays

)

select
    {{ surrogate_key(['days.calendar_date', 'countries.country']) }} as date_key,
    days.calendar_date,
    countries.country,
    {{ calendar_columns('days.calendar_date') }},
    holidays.holiday_date is not null as is_public_holiday,
    holidays.holiday_name
from days
cross join countries
left join holidays
    on days.calendar_date = holidays.holiday_date
    and countries.country = holidays.country
