-- Part master, cleaned and typed; latest delivered version per part_id.
-- lead_time_days is the part's own value only; the supplier fallback is in int_parts_enriched.
with source as (

    select * from {{ source('inventory', 'parts') }}

),

versions as (

    select
        {{ clean_id('part_id') }} as part_id,
        {{ clean_text('part_number') }} as part_number,
        {{ clean_text('description') }} as description,
        {{ clean_id('category_id') }} as category_id,
        {{ clean_id('supplier_id') }} as supplier_id,
        {{ clean_money('unit_cost') }} as unit_cost,
        {{ clean_money('unit_price') }} as unit_price,
        {{ clean_bigint('lead_time_days') }} as lead_time_days,
        {{ clean_bigint('shelf_life_days') }} as shelf_life_days,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as timestamp) as _loaded_at,
        row_number() over (
            partition by {{ clean_id('part_id') }}
            order by _loaded_at desc nulls last, _batch_id desc nulls last, _row_number desc nulls last
        ) as _version_rank
    from source

)

select
    part_id,
    part_number,
    description,
    category_id,
    supplier_id,
    unit_cost,
    unit_price,
    lead_time_days,
    shelf_life_days,
    _batch_id,
    _loaded_at
from versions
where _version_rank = 1
