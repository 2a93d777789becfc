-- Daily demand per part and location, zero-filled: one row per pair and day from the pair's first
-- transaction day (any type) to the last transaction day in the whole data set.
-- issued_qty = sum of ISSUE quantity that day; returned_qty = sum of RETURN quantity that day.
with transactions as (

    select * from {{ ref('int_transactions_signed') }}

),

calendar as (

    select cast(calendar_ts as date) as demand_date
    from generate_series(
        (select cast(min(occurred_date) as timestamp) from transactions),
        (select cast(max(occurred_date) as timestamp) from transactions),
        interval '1 day'
    ) as days (calendar_ts)

),

pairs as (

    select
        part_id,
        location_id,
        min(occurred_date) as first_date
    from transactions
    group by part_id, location_id

),

daily as (

    select
        part_id,
        location_id,
        occurred_date,
        sum(case when type = 'ISSUE' then quantity else 0 end) as issued_qty,
        sum(case when type = 'RETURN' then quantity else 0 end) as returned_qty
    from transactions
    where type in ('ISSUE', 'RETURN')
    group by part_id, location_id, occurred_date

)

select
    {{ surrogate_key(['pairs.part_id', 'pairs.location_id', 'calendar.demand_date']) }} as daily_demand_key,
    pairs.part_id,
    pairs.location_id,
    calendar.demand_date,
    cast(coalesce(daily.issued_qty, 0) as {{ int_type() }}) as issued_qty,
    cast(coalesce(daily.returned_qty, 0) as {{ int_type() }}) as returned_qty
from pairs
inner join calendar
    on calendar.demand_date >= pairs.first_date
left join daily
    on pairs.part_id = daily.part_id
    and pairs.location_id = daily.location_id
    and calendar.demand_date = daily.occurred_date
