"""ledger.core.money's reading formats, through ledger.core.locale_fast first: the same text,
without importing babel when the locale's few symbols are cached (babel otherwise)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal


def group_for_reading(amount: Decimal, locale: str | None = None) -> str:
    """ledger.core.money.group_for_reading."""
    if locale:
        from ledger.core.locale_fast import grouped

        text = grouped(amount, locale)
        if text is not None:
            return text
    from ledger.core.money import group_for_reading as slow

    return slow(amount, locale)


def percent_for_reading(fraction: Decimal, locale: str | None = None, digits: int = 1,
                        signed: bool = False) -> str:
    """ledger.core.money.percent_for_reading."""
    if locale:
        from ledger.core.locale_fast import percent

        text = percent(fraction, locale, digits, signed)
        if text is not None:
            return text
    from ledger.core.money import percent_for_reading as slow

    return slow(fraction, locale, digits, signed)


def number_for_reading(value: Decimal, locale: str | None = None, places: int = 2) -> str:
    """ledger.core.money.number_for_reading."""
    step = Decimal(1).scaleb(-places)
    return group_for_reading(value.quantize(step, rounding=ROUND_HALF_EVEN), locale)


def currency_symbol(currency: str, locale: str | None) -> str | None:
    """ledger.core.money.currency_symbol."""
    if locale:
        from ledger.core.locale_fast import symbol

        known, shown = symbol(currency, locale)
        if known:
            return shown
    from ledger.core.money import currency_symbol as slow

    return slow(currency, locale)
