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

pairs as (

    select
        part_id,
        location_id,
        min(occurred_date) as first_date,
        -- the key is this hash, computed once per pair, and the day (macro pair_day_key): an md5
        -- per row was half the build time at scale m, an md5 text per row still a third
        {{ pair_hash(['part_id', 'location_id']) }} as pair_hash
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
        pairs.pair_hash,
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

    select part_id, location_id, pair_hash, first_date as from_date from pairs

),

{% endif %}

daily as (

    select
        part_id,
        location_id,
        occurred_date,
        -- bigint, not the 128-bit (DuckDB) or numeric (PostgreSQL) sum of bigints, through the
        -- window below
        cast(sum(case when type = 'ISSUE' then quantity else 0 end) as {{ int_type() }})
            as issued_qty,
        cast(sum(case when type = 'RETURN' then quantity else 0 end) as {{ int_type() }})
            as returned_qty
    from transactions
    where type in ('ISSUE', 'RETURN')
    group by part_id, location_id, occurred_date

),

-- The pair's days with demand, and its first day to build. Every other day repeats nothing (zero
-- demand), so the zero-filled days are generated per event up to the next one instead of joining
-- every pair to a calendar.
events as (

    select
        plan.part_id,
        plan.location_id,
        plan.pair_hash,
        plan.from_date as demand_date,
        coalesce(daily.issued_qty, 0) as issued_qty,
        coalesce(daily.returned_qty, 0) as returned_qty
    from plan
    left join daily
        on plan.part_id = daily.part_id
        and plan.location_id = daily.location_id
        and plan.from_date = daily.occurred_date
    union all
    select
        daily.part_id,
        daily.location_id,
        plan.pair_hash,
        daily.occurred_date as demand_date,
        daily.issued_qty,
        daily.returned_qty
    from daily
    inner join plan
        on daily.part_id = plan.part_id
        and daily.location_id = plan.location_id
        and daily.occurred_date > plan.from_date

),

held as (

    select
        part_id,
        location_id,
        pair_hash,
        demand_date,
        issued_qty,
        returned_qty,
        -- partitioned on the pair's one bigint hash, not on its two texts
        coalesce(
            lead(demand_date) over (partition by pair_hash order by demand_date) - 1,
            (select max(occurred_date) from transactions)
        ) as held_until
    from events

),

-- every (span, offset) of a held stretch: the expansion below is an equality join on the span
day_offsets as (

    {{ held_day_offsets(
        '(select max(occurred_date) from transactions) - (select min(from_date) from plan)'
    ) }}

),

days as (

    select
        held.*,
        held.demand_date + day_offsets.day_offset as day_date
    from held
    inner join day_offsets
        on day_offsets.span = held.held_until - held.demand_date

),

loaded as (

    select
        cast(
            {{ loaded_through(['int_transactions_signed']) }} as {{ timestamp_type() }}
        ) as loaded_through

)

select
    {{ pair_day_key('days.pair_hash', 'days.day_date') }} as daily_demand_key,
    days.part_id,
    days.location_id,
    days.day_date as demand_date,
    case when days.day_date = days.demand_date then days.issued_qty else 0 end as issued_qty,
    case when days.day_date = days.demand_date then days.returned_qty else 0 end as returned_qty,
    loaded.loaded_through
from days
cross join loaded
