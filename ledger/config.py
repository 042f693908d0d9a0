"""ledger.toml: the user's settings (home currency, country); read by store.Ledger.config()."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import UsageError

if TYPE_CHECKING:
    from ledger.store import Ledger


def write_initial(ledger: Ledger, currency: str, country: str | None) -> Path:
    """Create ledger.toml; refuse to overwrite one the user may have edited."""
    from ledger.money import known_currencies
    from ledger.store import atomic_write_bytes

    currency = currency.upper()
    if currency not in known_currencies():
        raise UsageError(f"unknown currency {currency!r}", hint="use an ISO 4217 code, e.g. PKR")
    if country is not None and not (len(country) == 2 and country.isalpha()):
        raise UsageError(f"country {country!r} is not a two-letter ISO code", hint="e.g. PK")
    if ledger.config_path.exists():
        raise UsageError("ledger.toml already exists", path=ledger.config_path,
                         hint="edit it by hand")
    lines = [f'home_currency = "{currency}"']
    if country:
        lines.append(f'country = "{country.upper()}"')
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
