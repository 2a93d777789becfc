{#-
  The date the marts describe: the last day of the ledger (latest transaction day), never
  current_date, so that every KPI, alert and feature is reproducible from the same data and
  generated worlds that end in the past still have a "today". A scalar subquery usable anywhere.
-#}
{% macro ledger_end_date() -%}
    (select max(occurred_date) from {{ ref('int_transactions_signed') }})
{%- endmacro %}
