{#-
  A model's custom schema is used as-is (no `<target_schema>_` prefix), so the warehouse has exactly
  the schemas `staging` and `marts` on DuckDB and PostgreSQL alike. Models without a custom schema
  fall back to the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
