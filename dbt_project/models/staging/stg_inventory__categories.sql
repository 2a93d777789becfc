-- Category master: latest delivered version per category_id. Raw is already validated and typed
-- by the ingest; columns are only cast to the canonical types.
with source as (

    select * from {{ source('inventory', 'categories') }}

),

versions as (

    select
        cast(category_id as {{ text_type() }}) as category_id,
        cast(name as {{ text_type() }}) as name,
        cast(parent_category_id as {{ text_type() }}) as parent_category_id,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as {{ timestamp_type() }}) as _loaded_at,
        row_number() over (
            partition by category_id
            order by _loaded_at desc nulls last, _batch_id desc nulls last, _row_number desc nulls last
        ) as _version_rank
    from source

)

select
    category_id,
    name,
    parent_category_id,
    _batch_id,
    _loaded_at
from versions
where _version_rank = 1
