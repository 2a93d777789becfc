-- Locations: latest delivered version per location_id. Raw is already validated and typed by the
-- ingest (location_type already lower case); columns are only cast to the canonical types.
with source as (

    select * from {{ source('inventory', 'locations') }}

),

versions as (

    select
        cast(location_id as {{ text_type() }}) as location_id,
        cast(name as {{ text_type() }}) as name,
        cast(region as {{ text_type() }}) as region,
        cast(country as {{ text_type() }}) as country,
        cast(location_type as {{ text_type() }}) as location_type,
        cast(climate_zone as {{ text_type() }}) as climate_zone,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as {{ timestamp_type() }}) as _loaded_at,
        row_number() over (
            partition by location_id
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
