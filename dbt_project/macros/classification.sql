{#-
  Demand classification shared by the classification marts (as of the ledger end) and the feature
  marts (as of each row's day). Inputs are counts and exact integer sums over a window of days:
  n = days with demand (issued_qty > 0), s = sum of issued_qty, s2 = sum of issued_qty squared
  (zero days add nothing to s and s2, so they are the sums over the non-zero demand sizes).
-#}

{#- ADI: days observed in the window per day with demand (the average interval between demand
    days); NULL below 2 demand days, where an interval is not defined. -#}
{% macro adi(observed_days, n) -%}
    case when {{ n }} >= 2 then cast({{ observed_days }} as {{ double_type() }}) / {{ n }} end
{%- endmacro %}

{#- CV²: population variance / mean² of the non-zero demand sizes = (n*s2 - s²) / s², exact in
    integers up to the final division; NULL below 2 demand days. -#}
{% macro cv_squared(n, s, s2) -%}
    case
        when {{ n }} >= 2
            then cast({{ n }} * {{ s2 }} - {{ s }} * {{ s }} as {{ double_type() }})
                / cast({{ s }} * {{ s }} as {{ double_type() }})
    end
{%- endmacro %}

{#- Syntetos-Boylan classes with the cut-offs of vars adi_cutoff (1.32) and cv2_cutoff (0.49). -#}
{% macro demand_pattern(n, adi, cv2) -%}
    case
        when {{ n }} = 0 then 'no_demand'
        when {{ n }} < 2 then 'insufficient_history'
        when {{ adi }} < {{ var('adi_cutoff') }} and {{ cv2 }} < {{ var('cv2_cutoff') }} then 'smooth'
        when {{ adi }} < {{ var('adi_cutoff') }} then 'erratic'
        when {{ cv2 }} < {{ var('cv2_cutoff') }} then 'intermittent'
        else 'lumpy'
    end
{%- endmacro %}

{#- Share of the partition's total value held by the items ranked strictly before this one (by
    value descending, ties broken by `tiebreak`; partition_by none = one partition); NULL when the partition's total is 0. -#}
{% macro value_share_before(value, partition_by, tiebreak) -%}
    {%- set partition = ('partition by ' ~ partition_by) if partition_by else '' -%}
    cast(
        coalesce(sum({{ value }}) over (
            {{ partition }}
            order by {{ value }} desc, {{ tiebreak }}
            rows between unbounded preceding and 1 preceding
        ), 0) as {{ double_type() }}
    ) / nullif(cast(sum({{ value }}) over ({{ partition }}) as {{ double_type() }}), 0)
{%- endmacro %}

{#- ABC from value_share_before: A while the items before hold < 80 % of the value (so the item
    that crosses 80 % is still A), B while < 95 %, else C; C when the partition has no value. -#}
{% macro abc_class(share_before) -%}
    case
        when {{ share_before }} < 0.80 then 'A'
        when {{ share_before }} < 0.95 then 'B'
        else 'C'
    end
{%- endmacro %}
