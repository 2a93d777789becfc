-- Current stock position per part and location (see int_inventory_positions for on_hand),
-- enriched with part, category and location attributes, value and stock-status flags.
with positions as (

    select * from {{ ref('int_inventory_positions') }}

),

parts as (

    select * from {{ ref('int_parts_enriched') }}

),

locations as (

    select * from {{ ref('stg_inventory__locations') }}

)

select
    positions.position_key,
    positions.part_id,
    positions.location_id,
    parts.part_number,
    parts.description,
    parts.category_id,
    parts.category_name,
    locations.name as location_name,
    locations.region,
    cast(parts.unit_cost as {{ money_type() }}) as unit_cost,
    positions.on_hand,
    positions.reorder_threshold,
    positions.critical_threshold,
    positions.status,
    positions.snapshot_as_of,
    cast(positions.on_hand * parts.unit_cost as {{ money_type() }}) as inventory_value,
    case
        when positions.reorder_threshold is not null
            and positions.on_hand <= positions.reorder_threshold then true
        else false
    end as is_low_stock,
    case
        when positions.critical_threshold is not null
            and positions.on_hand <= positions.critical_threshold then true
        else false
    end as is_critical,
    case when positions.on_hand = 0 then true else false end as is_stockout
from positions
left join parts
    on positions.part_id = parts.part_id
left join locations
    on positions.location_id = locations.location_id
