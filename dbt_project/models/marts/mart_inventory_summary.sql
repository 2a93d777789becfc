-- Stock summary per location and part category, aggregated from fct_inventory_position.
with positions as (

    select * from {{ ref('fct_inventory_position') }}

)

select
    {{ surrogate_key(['location_id', 'category_id']) }} as summary_key,
    location_id,
    location_name,
    region,
    category_id,
    category_name,
    cast(count(*) as {{ int_type() }}) as item_count,
    cast(coalesce(sum(on_hand), 0) as {{ int_type() }}) as on_hand_units,
    cast(coalesce(sum(inventory_value), 0) as {{ money_type() }}) as total_value,
    cast(count(case when is_low_stock then 1 end) as {{ int_type() }}) as low_stock_count,
    cast(count(case when is_critical then 1 end) as {{ int_type() }}) as critical_stock_count,
    cast(count(case when is_stockout then 1 end) as {{ int_type() }}) as stockout_count
from positions
group by location_id, location_name, region, category_id, category_name
