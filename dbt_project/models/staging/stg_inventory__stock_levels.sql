-- Stock snapshots (end-of-day on_hand per part and location), cleaned and typed;
-- latest delivered version per (part_id, location_id, as_of). status defaults to 'active'.
with source as (

    select * from {{ source('inventory', 'stock_levels') }}

),

versions as (

    select
        {{ clean_date('as_of') }} as as_of,
        {{ clean_id('part_id') }} as part_id,
        {{ clean_id('location_id') }} as location_id,
        {{ clean_bigint('on_hand') }} as on_hand,
        {{ clean_bigint('reorder_threshold') }} as reorder_threshold,
        {{ clean_bigint('critical_threshold') }} as critical_threshold,
        coalesce({{ clean_lower('status') }}, 'active') as status,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as timestamp) as _loaded_at,
        row_number() over (
            partition by
                {{ clean_id('part_id') }},
                {{ clean_id('location_id') }},
                {{ clean_date('as_of') }}
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
