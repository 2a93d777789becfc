-- Inventory ledger: one row per transaction_id. Raw is already validated and typed by the ingest
-- (occurred_at in UTC, type upper case) and holds one row per transaction_id; the FIRST delivery
-- rule is kept as a safeguard (a later delivery of the same id is a duplicate or a conflict, never
-- a correction). Columns are only cast to the canonical types.
with source as (

    select * from {{ source('inventory', 'transactions') }}

),

deliveries as (

    select
        cast(transaction_id as {{ text_type() }}) as transaction_id,
        cast(occurred_at as {{ timestamp_type() }}) as occurred_at,
        cast(type as {{ text_type() }}) as type,
        cast(part_id as {{ text_type() }}) as part_id,
        cast(location_id as {{ text_type() }}) as location_id,
        cast(quantity as {{ int_type() }}) as quantity,
        cast(unit_cost as {{ money_type() }}) as unit_cost,
        cast(reference as {{ text_type() }}) as reference,
        cast(user_id as {{ text_type() }}) as user_id,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as {{ timestamp_type() }}) as _loaded_at,
        row_number() over (
            partition by transaction_id
            order by _loaded_at asc nulls last, _batch_id asc nulls last, _row_number asc nulls last
        ) as _delivery_rank
    from source

)

select
    transaction_id,
    occurred_at,
    type,
    part_id,
    location_id,
    quantity,
    unit_cost,
    reference,
    user_id,
    _batch_id,
    _loaded_at
from deliveries
where _delivery_rank = 1
