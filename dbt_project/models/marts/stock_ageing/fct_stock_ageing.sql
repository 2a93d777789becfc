-- Current on-hand per part and location aged first-in first-out: issues consume the oldest stock
-- first, so what is left is made of the NEWEST receipt layers. Walking a pair's receipts newest
-- first, a layer is on hand up to what the newer layers do not already cover:
--   layer_qty = least(quantity, greatest(on_hand - newer_qty, 0))
-- where newer_qty = sum(quantity) of the strictly newer receipts (a running sum, no loop).
-- On-hand not covered by any known receipt (opening stock, count corrections) is one layer of
-- unknown age: it was there before the ledger began, so its age is at least
-- ledger_end_date() - first ledger day; it always goes to the oldest bucket (">365 or unknown").
{%- set quantity_columns = [
    'age_0_30', 'age_31_90', 'age_91_180', 'age_181_365', 'age_over_365', 'age_unknown',
    'expired', 'expiring_30d',
] %}

with positions as (

    select * from {{ ref('fct_inventory_position') }}

),

parts as (

    select * from {{ ref('int_parts_enriched') }}

),

transactions as (

    select * from {{ ref('int_transactions_signed') }}

),

ledger as (

    select
        min(occurred_date) as first_ledger_date,
        max(occurred_date) as as_of_date
    from transactions

),

receipts as (

    select
        part_id,
        location_id,
        occurred_date as received_date,
        signed_quantity as quantity,
        coalesce(
            sum(signed_quantity) over (
                partition by part_id, location_id
                order by occurred_at desc, transaction_id desc
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as newer_qty
    from transactions
    where type in ('RECEIPT', 'TRANSFER_IN', 'RETURN')
        or (type = 'ADJUSTMENT' and signed_quantity > 0)

),

known_layers as (

    select
        receipts.part_id,
        receipts.location_id,
        receipts.received_date,
        false as is_unknown_age,
        least(receipts.quantity, positions.on_hand - receipts.newer_qty) as quantity
    from receipts
    inner join positions
        on receipts.part_id = positions.part_id
        and receipts.location_id = positions.location_id
    where positions.on_hand > receipts.newer_qty

),

unknown_layers as (

    select
        positions.part_id,
        positions.location_id,
        ledger.first_ledger_date as received_date,
        true as is_unknown_age,
        positions.on_hand - coalesce(sum(receipts.quantity), 0) as quantity
    from positions
    cross join ledger
    left join receipts
        on positions.part_id = receipts.part_id
        and positions.location_id = receipts.location_id
    group by positions.part_id, positions.location_id, ledger.first_ledger_date, positions.on_hand
    having positions.on_hand > coalesce(sum(receipts.quantity), 0)

),

layers as (

    select * from known_layers
    union all
    select * from unknown_layers

),

aged as (

    select
        layers.*,
        parts.shelf_life_days,
        cast({{ dbt.datediff('layers.received_date', 'ledger.as_of_date', 'day') }} as {{ int_type() }})
            as age_days
    from layers
    cross join ledger
    left join parts
        on layers.part_id = parts.part_id

),

per_position as (

    select
        part_id,
        location_id,
        sum(case when not is_unknown_age and age_days <= 30 then quantity else 0 end) as qty_age_0_30,
        sum(case when not is_unknown_age and age_days between 31 and 90 then quantity else 0 end) as qty_age_31_90,
        sum(case when not is_unknown_age and age_days between 91 and 180 then quantity else 0 end) as qty_age_91_180,
        sum(case when not is_unknown_age and age_days between 181 and 365 then quantity else 0 end) as qty_age_181_365,
        sum(case when is_unknown_age or age_days > 365 then quantity else 0 end) as qty_age_over_365,
        sum(case when is_unknown_age then quantity else 0 end) as qty_age_unknown,
        sum(case when age_days > shelf_life_days then quantity else 0 end) as qty_expired,
        sum(
            case when age_days > shelf_life_days - 30 and age_days <= shelf_life_days then quantity else 0 end
        ) as qty_expiring_30d,
        min(case when not is_unknown_age then received_date end) as oldest_receipt_date,
        max(age_days) as oldest_age_days
    from aged
    group by part_id, location_id

)

select
    positions.position_key as stock_ageing_key,
    positions.part_id,
    positions.location_id,
    ledger.as_of_date,
    positions.on_hand,
    positions.unit_cost,
    parts.shelf_life_days,
    {%- for column in quantity_columns %}
    cast(coalesce(per_position.qty_{{ column }}, 0) as {{ int_type() }}) as qty_{{ column }},
    {%- endfor %}
    {%- for column in quantity_columns %}
    cast(coalesce(per_position.qty_{{ column }}, 0) * positions.unit_cost as {{ money_type() }})
        as value_{{ column }},
    {%- endfor %}
    cast(
        (coalesce(per_position.qty_expired, 0) + coalesce(per_position.qty_expiring_30d, 0))
        * positions.unit_cost
        as {{ money_type() }}
    ) as value_at_risk,
    per_position.oldest_receipt_date,
    per_position.oldest_age_days
from positions
cross join ledger
left join parts
    on positions.part_id = parts.part_id
left join per_position
    on positions.part_id = per_position.part_id
    and positions.location_id = per_position.location_id
