-- Part master: latest delivered version per part_id. Raw is already validated and typed by the
-- ingest; columns are only cast to the canonical types.
-- lead_time_days is the part's own value only; the supplier fallback is in int_parts_enriched.
with source as (

    select * from {{ source('inventory', 'parts') }}

),

versions as (

    select
        cast(part_id as {{ text_type() }}) as part_id,
        cast(part_number as {{ text_type() }}) as part_number,
        cast(description as {{ text_type() }}) as description,
        cast(category_id as {{ text_type() }}) as category_id,
        cast(supplier_id as {{ text_type() }}) as supplier_id,
        cast(unit_cost as {{ money_type() }}) as unit_cost,
        cast(unit_price as {{ money_type() }}) as unit_price,
        cast(lead_time_days as {{ int_type() }}) as lead_time_days,
        cast(shelf_life_days as {{ int_type() }}) as shelf_life_days,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as {{ timestamp_type() }}) as _loaded_at,
        row_number() over (
            partition by part_id
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
