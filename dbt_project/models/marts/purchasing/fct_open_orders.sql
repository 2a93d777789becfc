-- Stock on order: one row per part and location with at least one OPEN purchase order.
-- Pairs without open orders have no row (quantity on order 0 for a left-joining reader).
with purchase_orders as (

    select * from {{ ref('fct_purchase_orders') }}

)

select
    {{ surrogate_key(['part_id', 'location_id']) }} as open_order_key,
    part_id,
    location_id,
    cast(count(*) as {{ int_type() }}) as open_po_count,
    cast(sum(quantity) as {{ int_type() }}) as quantity_on_order,
    cast(count(case when is_late then 1 end) as {{ int_type() }}) as late_open_po_count,
    cast(sum(case when is_late then quantity else 0 end) as {{ int_type() }}) as late_quantity_on_order,
    min(ordered_date) as oldest_ordered_date,
    min(expected_date) as next_expected_date
from purchase_orders
where is_open
group by part_id, location_id
