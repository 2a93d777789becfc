{#-
  One place for the column types, so both targets get the same ones. The raw tables are already
  typed by the ingest (docs/interfaces.md); staging still casts every column to these canonical
  types (a no-op when the ingest typed it as documented) so that DuckDB and PostgreSQL expose
  exactly the same staging and mart types.
-#}

{#- Money (unit_cost, unit_price, inventory values): exact decimal, same on DuckDB and Postgres. -#}
{% macro money_type() %}numeric(18,4){% endmacro %}

{#- Integers (quantities, counts, days). -#}
{% macro int_type() %}bigint{% endmacro %}

{#- Text (ids, names, enums). `text` is VARCHAR on DuckDB and text on Postgres. -#}
{% macro text_type() %}text{% endmacro %}

{#- Non-money decimals (scores, ratios): DOUBLE on DuckDB, double precision on Postgres. -#}
{% macro double_type() %}double precision{% endmacro %}

{#- Calendar days. -#}
{% macro date_type() %}date{% endmacro %}

{#- Points in time: timestamp without time zone, always UTC (converted at ingest). -#}
{% macro timestamp_type() %}timestamp{% endmacro %}
