-- Category master, cleaned and typed; latest delivered version per category_id.
with source as (

    select * from {{ source('inventory', 'categories') }}

),

versions as (

    select
        {{ clean_id('category_id') }} as category_id,
        {{ clean_text('name') }} as name,
        {{ clean_id('parent_category_id') }} as parent_category_id,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as timestamp) as _loaded_at,
        row_number() over (
            partition by {{ clean_id('category_id') }}
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
