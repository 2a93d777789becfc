{#-
  Fails for every row where the column is outside [min_value, max_value] (either bound optional;
  NULLs pass, test them with not_null). Our own version of dbt_utils.accepted_range.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}

{%- set conditions = [] -%}
{%- if min_value is not none -%}{%- do conditions.append(column_name ~ " < " ~ min_value) -%}{%- endif -%}
{%- if max_value is not none -%}{%- do conditions.append(column_name ~ " > " ~ max_value) -%}{%- endif -%}

select {{ column_name }}
from {{ model }}
where {{ conditions | join(' or ') if conditions else '1 = 0' }}

{% endtest %}
