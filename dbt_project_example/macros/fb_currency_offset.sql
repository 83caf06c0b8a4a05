{#- Minor units per unit of the account currency, as Meta counts them.
    Meta uses offset 1 for these currencies (a budget of 5000 JPY is 5000), 100 for all others. -#}
{% macro fb_currency_offset(currency_column) -%}
    case
        when upper({{ currency_column }}) in (
            'CLP', 'COP', 'CRC', 'HUF', 'IDR', 'ISK', 'JPY', 'KRW', 'PYG', 'TWD', 'VND'
        ) then 1
        else 100
    end
{%- endmacro %}
