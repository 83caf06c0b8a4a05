{#- Minor units (what Meta stores: BRL cents, whole yen) -> amount in the account currency, exact to the cent. -#}
{% macro fb_minor_to_amount(minor_column, offset_column) -%}
    cast(cast({{ minor_column }} as decimal(18, 2)) / {{ offset_column }} as decimal(18, 2))
{%- endmacro %}
