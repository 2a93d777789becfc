-- Stock snapshots (end-of-day on_hand per part and location): latest delivered version per
-- (part_id, location_id, as_of). Raw is already validated and typed by the ingest (status already
-- lower case); columns are only cast to the canonical types. A NULL status means 'active'.
with source as (

    select * from {{ source('inventory', 'stock_levels') }}

),

versions as (

    select
        cast(as_of as {{ date_type() }}) as as_of,
        cast(part_id as {{ text_type() }}) as part_id,
        cast(location_id as {{ text_type() }}) as location_id,
        cast(on_hand as {{ int_type() }}) as on_hand,
        cast(reorder_threshold as {{ int_type() }}) as reorder_threshold,
        cast(critical_threshold as {{ int_type() }}) as critical_threshold,
        cast(coalesce(status, 'active') as {{ text_type() }}) as status,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as {{ timestamp_type() }}) as _loaded_at,
        row_number() over (
            partition by part_id, location_id, as_of
            order by _loaded_at desc nulls last, _batch_id desc nulls last, _row_number desc nulls last
        ) as _version_rank
    from source

)

select
    {{ surrogate_key(['part_id', 'location_id', 'as_of']) }} as stock_level_key,
    as_of,
    part_id,
    location_id,
    on_hand,
    reorder_threshold,
    critical_threshold,
    status,
    _batch_id,
    _loaded_at
from versions
where _version_rank = 1
