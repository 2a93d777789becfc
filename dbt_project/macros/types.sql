{#- One place for the column types, so both targets get the same ones. -#}

{#- Money (unit_cost, unit_price, inventory values): exact decimal, same on DuckDB and Postgres. -#}
{% macro money_type() %}numeric(18,4){% endmacro %}

{#- Integers (quantities, counts, days). -#}
{% macro int_type() %}bigint{% endmacro %}

{#- Text (ids, names, enums). `text` is VARCHAR on DuckDB and text on Postgres. -#}
{% macro text_type() %}text{% endmacro %}
