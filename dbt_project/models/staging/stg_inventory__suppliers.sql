-- Supplier master, cleaned and typed; latest delivered version per supplier_id.
with source as (

    select * from {{ source('inventory', 'suppliers') }}

),

versions as (

    select
        {{ clean_id('supplier_id') }} as supplier_id,
        {{ clean_text('name') }} as name,
        {{ clean_bigint('lead_time_days') }} as lead_time_days,
        {{ clean_double('reliability_score') }} as reliability_score,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as timestamp) as _loaded_at,
        row_number() over (
            partition by {{ clean_id('supplier_id') }}
            order by _loaded_at desc nulls last, _batch_id desc nulls last, _row_number desc nulls last
        ) as _version_rank
    from source

)

select
    supplier_id,
    name,
    lead_time_days,
    reliability_score,
    _batch_id,
    _loaded_at
from versions
where _version_rank = 1
