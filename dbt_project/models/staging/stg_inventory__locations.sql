-- Locations, cleaned and typed; latest delivered version per location_id.
with source as (

    select * from {{ source('inventory', 'locations') }}

),

versions as (

    select
        {{ clean_id('location_id') }} as location_id,
        {{ clean_text('name') }} as name,
        {{ clean_text('region') }} as region,
        {{ clean_text('country') }} as country,
        {{ clean_lower('location_type') }} as location_type,
        {{ clean_text('climate_zone') }} as climate_zone,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as timestamp) as _loaded_at,
        row_number() over (
            partition by {{ clean_id('location_id') }}
            order by _loaded_at desc nulls last, _batch_id desc nulls last, _row_number desc nulls last
        ) as _version_rank
    from source

)

select
    location_id,
    name,
    region,
    country,
    location_type,
    climate_zone,
    _batch_id,
    _loaded_at
from versions
where _version_rank = 1
