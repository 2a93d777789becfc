-- Supplier master: latest delivered version per supplier_id. Raw is already validated and typed
-- by the ingest; columns are only cast to the canonical types (reliability_score: the raw
-- numeric(18,4) becomes double precision, it is a score, not money).
with source as (

    select * from {{ source('inventory', 'suppliers') }}

),

versions as (

    select
        cast(supplier_id as {{ text_type() }}) as supplier_id,
        cast(name as {{ text_type() }}) as name,
        cast(lead_time_days as {{ int_type() }}) as lead_time_days,
        cast(reliability_score as {{ double_type() }}) as reliability_score,
        cast(_batch_id as {{ text_type() }}) as _batch_id,
        cast(_loaded_at as {{ timestamp_type() }}) as _loaded_at,
        row_number() over (
            partition by supplier_id
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
