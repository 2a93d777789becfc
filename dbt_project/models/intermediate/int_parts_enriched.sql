-- One row per part: the part master with its category name, its supplier's name and lead time,
-- and the effective lead time (the part's own lead_time_days, else its supplier's).
with parts as (

    select * from {{ ref('stg_inventory__parts') }}

),

categories as (

    select * from {{ ref('stg_inventory__categories') }}

),

suppliers as (

    select * from {{ ref('stg_inventory__suppliers') }}

)

select
    parts.part_id,
    parts.part_number,
    parts.description,
    parts.category_id,
    categories.name as category_name,
    parts.supplier_id,
    suppliers.name as supplier_name,
    parts.unit_cost,
    parts.unit_price,
    parts.lead_time_days,
    suppliers.lead_time_days as supplier_lead_time_days,
    coalesce(parts.lead_time_days, suppliers.lead_time_days) as effective_lead_time_days,
    parts.shelf_life_days
from parts
left join categories
    on parts.category_id = categories.category_id
left join suppliers
    on parts.supplier_id = suppliers.supplier_id
