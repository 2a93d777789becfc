-- Purchase orders, cleaned and typed; one row per po_id: the version with the latest updated_at
-- (its current state); ties on updated_at go to the latest delivery.
with source as (

    select * from {{ source('inventory', 'purchase_orders') }}

),

versions as (

    select
        {{ clean_id('po_id') }} as po_id,
        {{ clean_id('part_id') }} as part_id,
        {{ clean_id('location_id') }} as location_id,
        {{ clean_id('supplier_id') }} as supplier_id,
        {{ clean_bigint('quantity') }} as quantity,
        {{ clean_utc_timestamp('ordered_at') }} as ordered_at,
        {{ clean_utc_timestamp('expected_at') }} as expected_at,
        {{ clean_utc_timestamp('received_at') }} as received_at,
        {{ clean_upper('status') }} as status,
        {{ clean_utc_timestamp('updated_at') }} as updated_at,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as timestamp) as _loaded_at,
        row_number() over (
            partition by {{ clean_id('po_id') }}
            order by
                {{ clean_utc_timestamp('updated_at') }} desc nulls last,
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
