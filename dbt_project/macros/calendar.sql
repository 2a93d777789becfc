{#-
  Calendar attributes of a date expression, shared by dim_date and the feature marts so both use
  exactly the same definitions. ISO conventions: day_of_week 1 = Monday .. 7 = Sunday, ISO week.
  The cyclical encodings put the last and the first value of a cycle next to each other
  (Sunday next to Monday, December next to January).
-#}
{% macro calendar_columns(day) -%}
    cast(extract(isodow from {{ day }}) as {{ int_type() }}) as day_of_week,
    cast(extract(day from {{ day }}) as {{ int_type() }}) as day_of_month,
    cast(extract(doy from {{ day }}) as {{ int_type() }}) as day_of_year,
    cast(extract(week from {{ day }}) as {{ int_type() }}) as iso_week,
    cast(extract(month from {{ day }}) as {{ int_type() }}) as month,
    cast(extract(quarter from {{ day }}) as {{ int_type() }}) as quarter,
    cast(extract(year from {{ day }}) as {{ int_type() }}) as year,
    extract(isodow from {{ day }}) >= 6 as is_weekend,
    extract(day from {{ day }}) = 1 as is_month_start,
    extract(day from {{ day }} + interval '1 day') = 1 as is_month_end,
    {{ cyclical('extract(isodow from ' ~ day ~ ') - 1', 7, 'day_of_week') }},
    {{ cyclical('extract(month from ' ~ day ~ ') - 1', 12, 'month') }},
    {{ cyclical('extract(doy from ' ~ day ~ ') - 1', 366, 'day_of_year') }}
{%- endmacro %}

{% macro cyclical(position, period, name) -%}
    sin(2 * pi() * cast({{ position }} as {{ double_type() }}) / {{ period }}) as {{ name }}_sin,
    cos(2 * pi() * cast({{ position }} as {{ double_type() }}) / {{ period }}) as {{ name }}_cos
{%- endmacro %}

{#- First day of the feature marts: the last var feature_window_days days of the data (null =
    all of it, from 1900-01-01 on). -#}
{% macro feature_first_day() -%}
    {%- if var('feature_window_days') -%}
        ({{ ledger_end_date() }} - {{ var('feature_window_days') - 1 }})
    {%- else -%}
        cast('1900-01-01' as date)
    {%- endif -%}
{%- endmacro %}

{#- Scoring date of the feature marts: the day after the last day of the data, the day the
    forecaster scores from (its features use every day of the data, its targets are unknown). -#}
{% macro feature_scoring_date() -%}
    ({{ ledger_end_date() }} + 1)
{%- endmacro %}
