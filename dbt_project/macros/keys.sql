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

{#-
  Integer key of a pair's day in the 19M-row daily facts: the first 44 bits of the pair's
  surrogate_key md5, times 100000, plus the day number since 1970-01-01 (< 100000 until 2243;
  44 bits x 100000 < 2^63). A bigint is far cheaper to build, store and check for uniqueness than
  an md5 text per row. pair_hash() is computed once per pair; two pairs share a 44-bit prefix with
  probability ~ pairs^2 / 2^45 (1e-5 at scale m), which the key's unique test would report.
-#}
{% macro pair_hash(columns) -%}
    {{ return(adapter.dispatch('hex_to_bigint')("substr(" ~ surrogate_key(columns) ~ ", 1, 11)")) }}
{%- endmacro %}

{% macro pair_day_key(pair_hash, day) -%}
    cast({{ pair_hash }} * 100000 + ({{ day }} - cast('1970-01-01' as {{ date_type() }})) as {{ int_type() }})
{%- endmacro %}

{% macro default__hex_to_bigint(hex_text) -%}
    cast(cast({{ dbt.concat(["'x'", hex_text]) }} as bit(44)) as {{ int_type() }})
{%- endmacro %}

{% macro duckdb__hex_to_bigint(hex_text) -%}
    cast({{ dbt.concat(["'0x'", hex_text]) }} as {{ int_type() }})
{%- endmacro %}

{#-
  The pair's hash back from a pair_day_key: a window over a pair's days partitions on this one
  bigint instead of part_id and location_id (two texts in the sort of 240M rows at the l scale).
-#}
{% macro pair_of_day_key(key) -%}
    {{ return(adapter.dispatch('pair_of_day_key')(key)) }}
{%- endmacro %}

{% macro default__pair_of_day_key(key) -%}
    ({{ key }} / 100000)
{%- endmacro %}

{% macro duckdb__pair_of_day_key(key) -%}
    ({{ key }} // 100000)
{%- endmacro %}
