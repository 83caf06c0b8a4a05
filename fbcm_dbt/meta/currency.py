"""Meta's per-currency offsets: how many minor units make one unit of the account currency."""

from __future__ import annotations

from decimal import Decimal

# Meta lists these as offset 1 (a budget of 1 is one whole unit); every other currency uses 100.
# HUF, TWD, CLP and COP are here although ISO 4217 gives some of them decimals.
_OFFSET_ONE = frozenset({"CLP", "COP", "CRC", "HUF", "IDR", "ISK", "JPY", "KRW", "PYG", "TWD", "VND"})

_OFFSET_HUNDRED = frozenset(
    """DZD ARS AUD BHD BDT BOB BGN BRL GBP CAD CNY HRK CZK DKK EGP EUR GTQ HNL HKD INR ILS JOD KES
    LVL LTL MOP MYR MXN NZD NIO NGN NOK PKR PEN PHP PLN QAR RON RUB SAR RSD SGD SKK ZAR SEK CHF THB
    TRY AED UAH USD UYU VEF VES FBZ LKR""".split()
)

INT64_MAX = 2**63 - 1


class UnknownCurrency(ValueError):
    pass


def currency_offset(currency: str) -> int:
    """The offset Meta uses for `currency`; unknown codes fail instead of guessing 100."""
    code = currency.strip().upper()
    if code in _OFFSET_ONE:
        return 1
    if code in _OFFSET_HUNDRED:
        return 100
    raise UnknownCurrency(f"currency {code!r} is not in fbcm's table of Meta currency offsets")


def format_money(minor: int, currency: str | None) -> str:
    """`12345` BRL -> `BRL 123.45`; without a known currency the minor units are shown as they are."""
    if currency is None:
        return f"{minor:,}"
    try:
        offset = currency_offset(currency)
    except UnknownCurrency:
        return f"{minor:,} (minor units, {currency})"
    if offset == 1:
        return f"{currency} {minor:,}"
    major = Decimal(minor) / offset
    return f"{currency} {major:,.2f}"
