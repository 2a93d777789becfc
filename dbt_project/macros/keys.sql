{#-
  Deterministic surrogate key: md5 (dbt.hash) of the natural key columns joined with '|'
  (dbt.concat). Each value is written as `<length>:<value>` so that no choice of ids can make two
  different keys collide (ids may contain '|'), and NULL becomes '~' (never a valid length prefix).
  The same text, hence the same key, on DuckDB and PostgreSQL.
-#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- set as_text = "cast(" ~ column ~ " as " ~ text_type() ~ ")" -%}
        {%- do parts.append(
            "coalesce(" ~ dbt.concat(["cast(length(" ~ as_text ~ ") as " ~ text_type() ~ ")", "':'", as_text]) ~ ", '~')"
        ) -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    cast({{ dbt.hash(dbt.concat(parts)) }} as {{ text_type() }})
{%- endmacro %}
