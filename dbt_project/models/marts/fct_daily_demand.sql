-- Daily demand per part and location, zero-filled: one row per pair and day from the pair's first
-- transaction day (any type) to the last transaction day in the whole data set.
-- issued_qty = sum of ISSUE quantity that day; returned_qty = sum of RETURN quantity that day.
-- Incremental: each pair's rows are rebuilt from the earliest day of its transactions loaded since
-- the previous build (late-arriving days) and from the previous last day on (new days).
{{ config(
    materialized='incremental',
    unique_key='daily_demand_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

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

{% if is_incremental() %}

changed_pairs as (

    select part_id, location_id, min(occurred_date) as changed_date
    from transactions
    where _loaded_at > {{ previous_loaded_through() }}
    group by part_id, location_id

),

plan as (

    select
        pairs.part_id,
        pairs.location_id,
        greatest(
            pairs.first_date,
            coalesce(
                least(changed_pairs.changed_date, previous_build.end_date + 1),
                pairs.first_date
            )
        ) as from_date
    from pairs
    cross join (select max(demand_date) as end_date from {{ this }}) as previous_build
    left join changed_pairs
        on pairs.part_id = changed_pairs.part_id
        and pairs.location_id = changed_pairs.location_id

),

{% else %}

plan as (

    select part_id, location_id, first_date as from_date from pairs

),

{% endif %}

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
    {{ surrogate_key(['plan.part_id', 'plan.location_id', 'calendar.demand_date']) }} as daily_demand_key,
    plan.part_id,
    plan.location_id,
    calendar.demand_date,
    cast(coalesce(daily.issued_qty, 0) as {{ int_type() }}) as issued_qty,
    cast(coalesce(daily.returned_qty, 0) as {{ int_type() }}) as returned_qty,
    cast(
        {{ loaded_through(['int_transactions_signed']) }} as {{ timestamp_type() }}
    ) as loaded_through
from plan
inner join calendar
    on calendar.demand_date >= plan.from_date
left join daily
    on plan.part_id = daily.part_id
    and plan.location_id = daily.location_id
    and calendar.demand_date = daily.occurred_date
