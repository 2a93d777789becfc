-- Predicted stock-out episodes for mart_alerts / fct_alert_history, from the predictions the
-- replenishment asset records on every as-of day (a stock-out projected within lead time + review
-- period that no open order covers; ml/replenishment/recommend.py). One row per part, location
-- and episode: consecutive RUN days with the prediction form one episode (gaps and islands over
-- the run sequence, so days without a run neither close nor split it). opened_at = the first run
-- day with the prediction (stable while it holds, so the alert id is); closed_at = the first run
-- day without it (NULL while it holds); days_to_stockout = the latest prediction's. Runs after the
-- ledger end (a rebuilt, shorter history) are ignored.
with predictions as (

    select * from {{ ref('stg_replenishment__stockout_predictions') }}

),

runs as (

    select
        as_of_date,
        row_number() over (order by as_of_date) as run_number
    from {{ ref('stg_replenishment__runs') }}
    where as_of_date <= {{ ledger_end_date() }}

),

flagged as (

    select
        predictions.part_id,
        predictions.location_id,
        predictions.as_of_date,
        predictions.days_to_stockout,
        runs.run_number,
        runs.run_number - row_number() over (
            partition by predictions.part_id, predictions.location_id
            order by predictions.as_of_date
        ) as island
    from predictions
    inner join runs
        on predictions.as_of_date = runs.as_of_date

),

episodes as (

    select
        part_id,
        location_id,
        min(as_of_date) as opened_at,
        max(as_of_date) as last_predicted_at,
        max(run_number) as last_run_number
    from flagged
    group by part_id, location_id, island

)

select
    episodes.part_id,
    episodes.location_id,
    cast(episodes.opened_at as {{ date_type() }}) as opened_at,
    cast(next_run.as_of_date as {{ date_type() }}) as closed_at,
    cast(latest.days_to_stockout as {{ int_type() }}) as days_to_stockout
from episodes
inner join flagged as latest
    on episodes.part_id = latest.part_id
    and episodes.location_id = latest.location_id
    and episodes.last_predicted_at = latest.as_of_date
left join runs as next_run
    on next_run.run_number = episodes.last_run_number + 1
