{% macro pair_attribute_columns(parts='parts', locations='locations') -%}
    {#- The part and location attributes every feature mart carries (same names, same types). -#}
    {{ parts }}.category_id,
    {{ parts }}.supplier_id,
    {{ parts }}.unit_cost,
    {{ parts }}.unit_price,
    cast({{ parts }}.effective_lead_time_days as {{ int_type() }}) as lead_time_days,
    {{ locations }}.location_type,
    {{ locations }}.region,
    {{ locations }}.country,
    {{ locations }}.climate_zone
{%- endmacro %}
