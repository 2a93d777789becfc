{#- An expression as text for messages: NULL becomes '?' so one unknown number does not blank
    the whole concatenation (|| with NULL is NULL on both targets). -#}
{% macro text_or_unknown(expr) -%}
    coalesce(cast({{ expr }} as {{ text_type() }}), '?')
{%- endmacro %}
