{#-
  Fails for every combination of `combination_of_columns` that occurs more than once in the model.
  (Our own version; the dbt package hub is not reachable, so there is no dbt_utils.)
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_records
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
