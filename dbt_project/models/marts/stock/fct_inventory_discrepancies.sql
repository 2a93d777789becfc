-- The stock counts that disagree with the ledger (fct_stock_counts where not is_accurate).
select
    stock_count_key,
    part_id,
    location_id,
    count_date,
    counted_on_hand,
    ledger_on_hand,
    difference_qty,
    difference_value
from {{ ref('fct_stock_counts') }}
where not is_accurate
