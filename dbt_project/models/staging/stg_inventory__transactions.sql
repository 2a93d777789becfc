-- Inventory ledger, cleaned and typed; the FIRST delivery of each transaction_id is kept
-- (a later delivery of the same id is a duplicate or a conflict, never a correction).
-- occurred_at is converted to UTC when it carries an offset, else taken as UTC.
with source as (

    select * from {{ source('inventory', 'transactions') }}

),

deliveries as (

    select
        {{ clean_id('transaction_id') }} as transaction_id,
        {{ clean_utc_timestamp('occurred_at') }} as occurred_at,
        {{ clean_upper('type') }} as type,
        {{ clean_id('part_id') }} as part_id,
        {{ clean_id('location_id') }} as location_id,
        {{ clean_bigint('quantity') }} as quantity,
        {{ clean_money('unit_cost') }} as unit_cost,
        {{ clean_text('reference') }} as reference,
        {{ clean_id('user_id') }} as user_id,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as timestamp) as _loaded_at,
        row_number() over (
            partition by {{ clean_id('transaction_id') }}
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
