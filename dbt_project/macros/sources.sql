{#-
  Whether a source table exists yet. For sources written by a Python asset that runs after the
  marts (replenishment): on an empty warehouse dbt builds before the asset ever ran, so the
  staging view over it selects typed zero rows instead of failing. Always true while parsing.
-#}
{% macro source_exists(relation) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) -%}
    {{ return(found is not none) }}
{%- endmacro %}
