-- One row per transaction with its UTC calendar day and its signed effect on on-hand stock:
-- ISSUE, TRANSFER_OUT -> -quantity; RECEIPT, TRANSFER_IN, RETURN -> +quantity;
-- ADJUSTMENT -> quantity as delivered (already a signed delta).
-- Only the columns the marts read: reference and user_id stay in the staging view (writing
-- them was a seventh of this table's 64 s at the l scale).
with transactions as (

    select * from {{ ref('stg_inventory__transactions') }}

)

select
    transaction_id,
    occurred_at,
    cast(occurred_at as date) as occurred_date,
    type,
    part_id,
    location_id,
    quantity,
    cast(
        case
            when type in ('ISSUE', 'TRANSFER_OUT') then -quantity
            when type in ('RECEIPT', 'TRANSFER_IN', 'RETURN') then quantity
            when type = 'ADJUSTMENT' then quantity
        end
        as {{ int_type() }}
    ) as signed_quantity,
    unit_cost,
    _loaded_at
from transactions
