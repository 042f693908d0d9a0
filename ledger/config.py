"""ledger.toml: the user's settings (home currency, country); read by store.Ledger.config()."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import UsageError

if TYPE_CHECKING:
    from ledger.store import Ledger


def checked_locale(value: str, *, path: Path | None = None, flag: str = "--locale") -> str:
    """A reading locale (`en_IN`, `de_DE`) as babel spells it. An unknown one is a usage
    error (exit 2) naming where it was set: `locale` in ledger.toml (`path`), else `flag`."""
    from ledger.money import check_locale, locale_hint

    try:
        return check_locale(value)
    except ValueError:
        setting = f'locale = "{value}"' if path is not None else f"{flag} {value}"
        raise UsageError(f"{setting}: not a locale CLDR knows", path=path,
                         hint=locale_hint()) from None


def reading_locale(ledger: Ledger) -> str | None:
    """`locale` of ledger.toml as babel spells it, or None: how every table, text and HTML
    output writes numbers. An unknown one is refused naming ledger.toml and the key."""
    value = ledger.config().get("locale")
    return None if value is None else checked_locale(value, path=ledger.config_path)


def write_initial(ledger: Ledger, currency: str, country: str | None,
                  locale: str | None = None) -> Path:
    """Create ledger.toml; refuse to overwrite one the user may have edited."""
    from ledger.files import atomic_write_bytes
    from ledger.money import known_currencies

    currency = currency.upper()
    if currency not in known_currencies():
        raise UsageError(f"unknown currency {currency!r}", hint="use an ISO 4217 code, e.g. PKR")
    if country is not None and not (len(country) == 2 and country.isalpha()):
        raise UsageError(f"country {country!r} is not a two-letter ISO code", hint="e.g. PK")
    if locale is not None:
        locale = checked_locale(locale)
    if ledger.config_path.exists():
        raise UsageError("ledger.toml already exists", path=ledger.config_path,
                         hint="edit it by hand")
    lines = [f'home_currency = "{currency}"']
    if country:
        lines.append(f'country = "{country.upper()}"')
    if locale:
        lines.append(f'locale = "{locale}"')
    ledger.root.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(ledger.config_path, ("\n".join(lines) + "\n").encode("utf-8"))
    return ledger.config_path


def as_date(value: Any) -> dt.date | None:
    """A TOML date (native, or a YYYY-MM-DD string) as a date; ValueError if it is not one."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
