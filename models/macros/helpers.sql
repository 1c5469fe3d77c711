{#- Filter snippets shared by the demo segments. Each macro renders one YAML flow
    mapping, so a segment can use it as a list item: `- {{ age_band(18, 24) }}`. -#}

{% macro age_band(low, high) -%}
{attribute: age, between: [{{ low }}, {{ high }}]}
{%- endmacro %}

{% macro email_domain(domain) -%}
{attribute: email, matches_regex: "(?i)@{{ domain | replace('.', '[.]') }}$"}
{%- endmacro %}
