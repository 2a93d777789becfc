{#-
  Incremental bookkeeping shared by the incremental marts. Every raw row carries `_loaded_at` (the
  start of the batch that loaded it), so a mart remembers in `loaded_through` the newest _loaded_at
  it has read, and the next incremental run reprocesses exactly the rows loaded after it. This
  assumes batches are not loaded while dbt runs (the refresh job ingests, then builds).
-#}

{#- The newest _loaded_at among the given staging models: the mart's new loaded_through. -#}
{% macro loaded_through(models) -%}
    (
        select max(_loaded_at) from (
            {%- for model in models %}
            select max(_loaded_at) as _loaded_at from {{ ref(model) }}
            {%- if not loop.last %} union all{% endif %}
            {%- endfor %}
        ) as _sources
    )
{%- endmacro %}

{#- The loaded_through of the previous build of this incremental model. -#}
{% macro previous_loaded_through() -%}
    (select max(loaded_through) from {{ this }})
{%- endmacro %}
