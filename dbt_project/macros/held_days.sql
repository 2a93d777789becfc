{#-
  Every (span, day_offset) with 0 <= day_offset <= span <= max_span: the daily facts expand an
  event held for `span` days after its day by an equality join on span (a hash join with this
  small table, ~600k rows for 3 years), instead of a lateral generate_series per event, which
  DuckDB decorrelates into a materialized copy of the 9M events and a second join.
  `max_span` is a scalar SQL expression. Both targets: integer generate_series, date + integer.
-#}
{% macro held_day_offsets(max_span) -%}
    select cast(spans.span as integer) as span, cast(offsets.day_offset as integer) as day_offset
    from generate_series(0, cast({{ max_span }} as integer)) as spans (span)
    inner join generate_series(0, cast({{ max_span }} as integer)) as offsets (day_offset)
        on offsets.day_offset <= spans.span
{%- endmacro %}
