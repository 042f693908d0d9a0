"""A locale's number writing (ledger.core.money's reading formats with a locale): without
importing babel from the few symbols and patterns a report uses, taken from babel once and kept
in the user cache folder (ledger.core.locale_data's), and by babel where there are none.

Importing babel (babel.core, numbers, plural, localedata) costs ~5-10 ms of every report of a
ledger with a `locale`. The first command that writes numbers for a locale asks babel for its
group and decimal symbols, groupings, the prefixes and suffixes babel writes around a number
and a percentage, its plus sign and currency symbols; it keeps them only if formatting a set
of probe values the fast way gives babel's text exactly. Later commands read them here. When
no entry can be had (no cache, a pattern babel writes otherwise), babel writes (`babel_*`),
so every output is babel's own either way.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from functools import cache
from typing import Any

VERSION = 1
"""Bumped when what an entry holds changes."""

DIGITS = (0, 1, 2)
"""Decimal places of percentages an entry serves (reports use these)."""

PROBES = ("0", "-0", "0.00001", "-0.00001", "0.005", "0.015", "0.125", "-0.125", "0.135",
          "1", "-1", "12.345", "-12.345", "999.9999", "1234.5678", "-98765.4321",
          "123456789.987654321", "-0.5", "0.5", "7", "10000")
"""Values every entry is checked on against babel before it is kept."""


def _file(name: str):
    from ledger.core.locale_data import cache_dir

    tag = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return cache_dir() / f"numbers-v{VERSION}-{name}.{tag}.marshal"


def _group(digits: str, symbol: str, grouping: tuple[int, int]) -> str:
    """babel's NumberPattern._format_int for a pattern with at least one integer digit."""
    size = grouping[0]
    out = ""
    while len(digits) > size:
        out = symbol + digits[-size:] + out
        digits = digits[:-size]
        size = grouping[1]
    return digits + out


def _percent(entry: dict[str, Any], fraction: Decimal, digits: int) -> str:
    """format_percent as ledger.core.money.percent_for_reading calls it (no plus sign)."""
    value = fraction.scaleb(2)
    negative = int(value.is_signed())
    rounded = abs(value).normalize().quantize(Decimal(10) ** -digits)
    whole, _, part = f"{rounded:f}".partition(".")
    number = _group(whole, entry["group"], entry["percent_grouping"])
    if digits:
        number += entry["decimal"] + part
    prefix, suffix = entry["percent"][digits][negative]
    return prefix + number + suffix


def _grouped(entry: dict[str, Any], amount: Decimal) -> str:
    """group_for_reading of ledger.core.money, babel's part done here."""
    sign, text = ("-", f"{-amount:f}") if amount < 0 else ("", f"{amount:f}")
    whole, _, fraction = text.partition(".")
    whole = str(int(whole))
    prefix, suffix = entry["decimal_affixes"]
    grouped = prefix + _group(whole, entry["group"], entry["decimal_grouping"]) + suffix
    return sign + grouped + (entry["decimal"] + fraction if fraction else "")


def _build(name: str) -> dict[str, Any] | None:
    """The entry for locale text `name`, from babel; None when the fast way would differ."""
    from babel import Locale, UnknownLocaleError
    from babel.numbers import (
        format_decimal,
        get_decimal_symbol,
        get_group_symbol,
        get_plus_sign_symbol,
        parse_pattern,
    )

    from ledger.core.locale_data import prime

    try:
        canonical = str(Locale.parse(name))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    if canonical != name:
        return None
    prime(name)  # babel's number entries cached too (ledger.core.locale_data), as before
    locale = Locale.parse(name)
    decimal_pattern = parse_pattern(locale.decimal_formats[None])
    percent_text = locale.percent_formats[None].pattern.split(";")[0]
    entry: dict[str, Any] = {
        "name": canonical,
        "group": get_group_symbol(name),
        "decimal": get_decimal_symbol(name),
        "plus": get_plus_sign_symbol(name),
        "decimal_grouping": tuple(decimal_pattern.grouping),
        "percent_grouping": tuple(parse_pattern(percent_text).grouping),
        "symbols": dict(locale.currency_symbols),
    }
    bare = _group("1234567", entry["group"], entry["decimal_grouping"])
    shown = format_decimal(1234567, locale=name)
    if shown.count(bare) != 1:
        return None
    entry["decimal_affixes"] = tuple(shown.split(bare))
    entry["percent"] = {}
    for digits in DIGITS:
        pair = []
        for probe in ("0.5", "-0.5"):
            shown = babel_percent(Decimal(probe), name, digits)
            bare = _group("50", entry["group"], entry["percent_grouping"]) + (
                entry["decimal"] + "0" * digits if digits else "")
            if shown.count(bare) != 1:
                return None
            pair.append(tuple(shown.split(bare)))
        entry["percent"][digits] = tuple(pair)
    for probe in map(Decimal, PROBES):
        if _grouped(entry, probe) != babel_grouped(probe, name):
            return None
        for digits in DIGITS:
            for signed in (False, True):
                if _signed_percent(entry, probe, digits, signed) != \
                        babel_percent(probe, name, digits, signed):
                    return None
    return entry


@cache
def entry_for(name: str) -> dict[str, Any] | None:
    """The cached entry for locale text `name` (built from babel and kept the first time), or
    None (babel is to be asked)."""
    import marshal

    from ledger.core.files import keep_cached

    try:
        path = _file(name)
    except Exception:  # no cache folder can be named: ask babel
        return None
    try:
        data = marshal.loads(path.read_bytes())  # written by this module only, below
    except Exception:  # absent, unreadable or written by something else
        data = None
    if isinstance(data, dict) and data.get("name") == name:
        return data
    if "/" in name or "\\" in name or not name.replace("_", "").isalnum():
        return None
    entry = _build(name)
    if entry is not None:
        keep_cached(path, marshal.dumps(entry))
    return entry


def _signed_percent(entry: dict[str, Any], fraction: Decimal, digits: int,
                    signed: bool) -> str:
    """babel_percent from `entry` (a `digits` it serves)."""
    plus = entry["plus"] if signed and fraction > 0 else ""
    return plus + _percent(entry, fraction, digits)


def percent(fraction: Decimal, locale: str, digits: int, signed: bool) -> str:
    """ledger.core.money.percent_for_reading for a locale: from its entry, else by babel."""
    entry = entry_for(locale)
    if entry is None or digits not in DIGITS:
        return babel_percent(fraction, locale, digits, signed)
    return _signed_percent(entry, fraction, digits, signed)


def grouped(amount: Decimal, locale: str) -> str:
    """ledger.core.money.group_for_reading for a locale: from its entry, else by babel."""
    entry = entry_for(locale)
    return babel_grouped(amount, locale) if entry is None else _grouped(entry, amount)


def symbol(currency: str, locale: str) -> str | None:
    """ledger.core.money.currency_symbol for a locale: from its entry, else by babel."""
    entry = entry_for(locale)
    if entry is None:
        return babel_symbol(currency, locale)
    shown = entry["symbols"].get(currency, currency)
    return shown if shown != currency else None


def babel_grouped(amount: Decimal, locale: str) -> str:
    """ledger.core.money.group_for_reading of a locale, by babel (what entries are checked on)."""
    from babel.numbers import format_decimal, get_decimal_symbol

    from ledger.core.locale_data import prime

    prime(locale)
    sign, text = ("-", f"{-amount:f}") if amount < 0 else ("", f"{amount:f}")
    whole, _, fraction = text.partition(".")
    grouped = format_decimal(int(whole), locale=locale)
    return sign + grouped + (get_decimal_symbol(locale) + fraction if fraction else "")


def babel_percent(fraction: Decimal, locale: str, digits: int = 1, signed: bool = False) -> str:
    """ledger.core.money.percent_for_reading of a locale, by babel (what entries are checked
    on)."""
    from babel import Locale
    from babel.numbers import format_percent, get_plus_sign_symbol

    from ledger.core.locale_data import prime

    prime(locale)
    pattern = Locale.parse(locale).percent_formats[None].pattern.split(";")[0]
    last = pattern.rfind("0")
    if digits:
        pattern = pattern[:last + 1] + "." + "0" * digits + pattern[last + 1:]
    text = format_percent(fraction, format=pattern, locale=locale)
    plus = get_plus_sign_symbol(locale) if signed and fraction > 0 else ""
    return plus + text


def babel_symbol(currency: str, locale: str) -> str | None:
    """ledger.core.money.currency_symbol of a locale, by babel."""
    from babel.numbers import get_currency_symbol

    from ledger.core.locale_data import prime

    prime(locale)
    symbol = get_currency_symbol(currency, locale=locale)
    return symbol if symbol != currency else None
