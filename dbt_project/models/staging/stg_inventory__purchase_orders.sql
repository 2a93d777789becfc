-- Purchase orders, current state: one row per po_id, the version with the latest updated_at;
-- ties on updated_at go to the latest delivery. Raw is already validated and typed by the ingest
-- (timestamps in UTC, status upper case) and holds one row per (po_id, updated_at) state; columns
-- are only cast to the canonical types.
with source as (

    select * from {{ source('inventory', 'purchase_orders') }}

),

versions as (

    select
        cast(po_id as {{ text_type() }}) as po_id,
        cast(part_id as {{ text_type() }}) as part_id,
        cast(location_id as {{ text_type() }}) as location_id,
        cast(supplier_id as {{ text_type() }}) as supplier_id,
        cast(quantity as {{ int_type() }}) as quantity,
        cast(ordered_at as {{ timestamp_type() }}) as ordered_at,
        cast(expected_at as {{ timestamp_type() }}) as expected_at,
        cast(received_at as {{ timestamp_type() }}) as received_at,
        cast(status as {{ text_type() }}) as status,
        cast(updated_at as {{ timestamp_type() }}) as updated_at,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as {{ timestamp_type() }}) as _loaded_at,
        row_number() over (
            partition by po_id
            order by
                updated_at desc nulls last,
                _loaded_at desc nulls last,
                _batch_id desc nulls last,
                _row_number desc nulls last
        ) as _version_rank
    from source

)

select
    po_id,
    part_id,
    location_id,
    supplier_id,
    quantity,
    ordered_at,
    expected_at,
    received_at,
    status,
    updated_at,
    _batch_id,
    _loaded_at
from versions
where _version_rank = 1
