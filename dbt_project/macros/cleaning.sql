{#-
  Cleaning helpers for the staging layer. Raw columns are text exactly as delivered; these macros
  trim, turn empty strings into NULL and cast. Every expression is valid on DuckDB and PostgreSQL.
-#}

{#- trim + empty string -> NULL, as text -#}
{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as {{ text_type() }})), '')
{%- endmacro %}

{#- identifiers: the contract allows any non-empty string, spaces included, so no trim -#}
{% macro clean_id(column) -%}
    nullif(cast({{ column }} as {{ text_type() }}), '')
{%- endmacro %}

{#- enum spelled in lower case by the contract (location_type, stock status) -#}
{% macro clean_lower(column) -%}
    lower({{ clean_text(column) }})
{%- endmacro %}

{#- enum spelled in upper case by the contract (transaction type, PO status) -#}
{% macro clean_upper(column) -%}
    upper({{ clean_text(column) }})
{%- endmacro %}

{#- integer; goes through numeric so that '5.0' (a float-typed source) is accepted on both engines -#}
{% macro clean_bigint(column) -%}
    cast(cast({{ clean_text(column) }} as numeric(38, 10)) as {{ int_type() }})
{%- endmacro %}

{#- money: exact decimal numeric(18,4) (rounded half away from zero on both engines) -#}
{% macro clean_money(column) -%}
    cast({{ clean_text(column) }} as {{ money_type() }})
{%- endmacro %}

{#- non-money decimal (scores, ratios) -#}
{% macro clean_double(column) -%}
    cast({{ clean_text(column) }} as double precision)
{%- endmacro %}

{#- calendar date; a time part, if any, is ignored -#}
{% macro clean_date(column) -%}
    cast({{ clean_text(column) }} as date)
{%- endmacro %}

{#-
  ISO-8601 timestamp -> timestamp (without time zone) in UTC.
  A value with an offset (Z, +02, +02:00, -0500) is converted to UTC; a value without one is taken as
  UTC. A plain cast to timestamp would silently DROP the offset on both engines, hence the branch.
  The offset branch does not depend on the session time zone (the offset is explicit).
-#}
{% macro clean_utc_timestamp(column) -%}
    case
        when {{ clean_text(column) }}
            ~ '.*[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)? ?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$'
        then cast(cast({{ clean_text(column) }} as timestamp with time zone) at time zone 'UTC' as timestamp)
        else cast({{ clean_text(column) }} as timestamp)
    end
{%- endmacro %}
