-- Delivery performance per supplier over all its purchase orders (fct_purchase_orders), plus the
-- suppliers of the master that have none yet (counts 0, statistics NULL). POs whose supplier is
-- unknown (neither on the PO nor on the part) are left out: they belong to no supplier.
with purchase_orders as (

    select * from {{ ref('fct_purchase_orders') }}

),

suppliers as (

    select * from {{ ref('stg_inventory__suppliers') }}

),

supplier_ids as (

    select supplier_id from suppliers
    union
    select supplier_id from purchase_orders where supplier_id is not null

),

per_supplier as (

    select
        supplier_id,
        count(*) as po_count,
        count(case when status = 'RECEIVED' then 1 end) as received_po_count,
        count(case when status = 'CANCELLED' then 1 end) as cancelled_po_count,
        count(case when is_open then 1 end) as open_po_count,
        count(case when is_open and is_late then 1 end) as late_open_po_count,
        sum(case when is_open then quantity else 0 end) as open_quantity,
        count(lead_time_days) as lead_time_sample_size,
        avg(cast(lead_time_days as {{ double_type() }})) as lead_time_mean_days,
        stddev_samp(cast(lead_time_days as {{ double_type() }})) as lead_time_stddev_days,
        count(is_on_time) as on_time_sample_size,
        count(case when is_on_time then 1 end) as on_time_count
    from purchase_orders
    where supplier_id is not null
    group by supplier_id

)

select
    supplier_ids.supplier_id,
    suppliers.name as supplier_name,
    suppliers.lead_time_days as nominal_lead_time_days,
    cast(coalesce(per_supplier.po_count, 0) as {{ int_type() }}) as po_count,
    cast(coalesce(per_supplier.received_po_count, 0) as {{ int_type() }}) as received_po_count,
    cast(coalesce(per_supplier.cancelled_po_count, 0) as {{ int_type() }}) as cancelled_po_count,
    cast(coalesce(per_supplier.open_po_count, 0) as {{ int_type() }}) as open_po_count,
    cast(coalesce(per_supplier.late_open_po_count, 0) as {{ int_type() }}) as late_open_po_count,
    cast(coalesce(per_supplier.open_quantity, 0) as {{ int_type() }}) as open_quantity,
    cast(coalesce(per_supplier.lead_time_sample_size, 0) as {{ int_type() }}) as lead_time_sample_size,
    cast(per_supplier.lead_time_mean_days as {{ double_type() }}) as lead_time_mean_days,
    cast(per_supplier.lead_time_stddev_days as {{ double_type() }}) as lead_time_stddev_days,
    cast(coalesce(per_supplier.on_time_sample_size, 0) as {{ int_type() }}) as on_time_sample_size,
    cast(
        100.0 * per_supplier.on_time_count / nullif(per_supplier.on_time_sample_size, 0)
        as {{ double_type() }}
    ) as on_time_pct
from supplier_ids
left join suppliers
    on supplier_ids.supplier_id = suppliers.supplier_id
left join per_supplier
    on supplier_ids.supplier_id = per_supplier.supplier_id
