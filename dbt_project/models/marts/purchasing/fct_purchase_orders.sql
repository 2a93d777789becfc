-- One row per purchase order in its current state (stg keeps the latest updated_at per po_id),
-- with calendar-day lead times and lateness measured against expected_at.
-- A PO without supplier_id is attributed to its part's supplier. "Today" for open orders is
-- ledger_end_date(), never current_date, so the mart is reproducible.
with purchase_orders as (

    select * from {{ ref('stg_inventory__purchase_orders') }}

),

parts as (

    select * from {{ ref('int_parts_enriched') }}

),

dated as (

    select
        purchase_orders.po_id,
        purchase_orders.part_id,
        purchase_orders.location_id,
        coalesce(purchase_orders.supplier_id, parts.supplier_id) as supplier_id,
        purchase_orders.quantity,
        purchase_orders.status,
        purchase_orders.ordered_at,
        purchase_orders.expected_at,
        purchase_orders.received_at,
        purchase_orders.updated_at,
        cast(purchase_orders.ordered_at as date) as ordered_date,
        cast(purchase_orders.expected_at as date) as expected_date,
        case
            when purchase_orders.status = 'RECEIVED' then cast(purchase_orders.received_at as date)
        end as received_date,
        {{ ledger_end_date() }} as as_of_date
    from purchase_orders
    left join parts
        on purchase_orders.part_id = parts.part_id

),

measured as (

    select
        *,
        cast({{ dbt.datediff('ordered_date', 'expected_date', 'day') }} as {{ int_type() }})
            as expected_lead_time_days,
        cast({{ dbt.datediff('ordered_date', 'received_date', 'day') }} as {{ int_type() }})
            as lead_time_days,
        cast(
            case
                when status = 'RECEIVED' then {{ dbt.datediff('expected_date', 'received_date', 'day') }}
                when status = 'OPEN' then {{ dbt.datediff('expected_date', 'as_of_date', 'day') }}
            end
            as {{ int_type() }}
        ) as days_past_expected
    from dated

)

select
    po_id,
    part_id,
    location_id,
    supplier_id,
    quantity,
    status,
    ordered_at,
    expected_at,
    received_at,
    updated_at,
    ordered_date,
    expected_date,
    received_date,
    expected_lead_time_days,
    lead_time_days,
    status = 'OPEN' as is_open,
    case
        when received_date is not null and expected_date is not null
            then received_date <= expected_date
    end as is_on_time,
    coalesce(days_past_expected > 0, false) as is_late,
    cast(case when days_past_expected > 0 then days_past_expected else 0 end as {{ int_type() }})
        as days_late
from measured
