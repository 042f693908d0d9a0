"""A report period (`--month`, `--year`, `--from/--to`) and the report currency: what the
report, payouts, exports and the tax register all resolve the same way, below all of them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.core.errors import DataError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from ledger.store.directory import Ledger


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str


def resolve_period(rows: pl.DataFrame, *, month: str | None = None, year: int | None = None,
                   start: str | None = None, end: str | None = None) -> Period:
    """`--month`, `--year` or `--from/--to`; by default the latest month with data."""
    chosen = sum(x is not None for x in (month, year)) + (start is not None or end is not None)
    if chosen > 1:
        raise UsageError("choose one of --month, --year or --from/--to")
    if month:
        try:
            first = month_start(month)
        except ValueError:
            raise UsageError(f"--month {month!r} is not YYYY-MM", hint="e.g. --month 2024-06"
                             ) from None
        check_year(first.year, f"--month {month}")
        return Period(first, _month_end(first), first.strftime("%B %Y"))
    if year is not None:
        check_year(year, f"--year {year}")
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))
    if start or end:
        lo = iso_date(start, "--from") if start else rows["date"].min()
        hi = iso_date(end, "--to") if end else rows["date"].max()
        if lo is None or hi is None:
            raise DataError("the ledger is empty", hint="import exports first: ledger import FILE")
        if lo > hi:
            raise UsageError(f"--from {lo} is after --to {hi}")
        check_year(hi.year, f"--to {hi}")
        check_year(lo.year, f"--from {lo}")
        return Period(lo, hi, f"{lo} to {hi}")
    latest = rows["date"].max()
    if latest is None:
        raise DataError("the ledger is empty", hint="import exports first: ledger import FILE")
    first = latest.replace(day=1)
    return Period(first, _month_end(first), first.strftime("%B %Y"))


YEARS = (1900, 9998)
"""Years a report period may name: later ones leave no room for the day after the period."""


def check_year(year: int, option: str, hint: str = "e.g. --year 2024 or --month 2024-06"
               ) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise UsageError(f"{option} is out of range: years run from {YEARS[0]} to {YEARS[1]}",
                         hint=hint)


def iso_date(text: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date YYYY-MM-DD") from None


_YEAR_MONTH = re.compile(r"(\d\d\d\d)-(1[0-2]|0[1-9]|[1-9])")
"""What strptime's "%Y-%m" reads (its own patterns for %Y and %m), the whole text."""


def month_start(text: str) -> dt.date:
    """The first day of the month `text` names as `datetime.strptime(text, "%Y-%m")` reads
    it (ValueError where that raises), without loading _strptime (~0.6 ms of a report)."""
    found = _YEAR_MONTH.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not YYYY-MM")
    return dt.date(int(found[1]), int(found[2]), 1)


def _month_end(first: dt.date) -> dt.date:
    """The last day of `first`'s month (calendar, which polars has loaded: dateutil's
    relativedelta(day=31) gave the same day for ~0.6 ms of imports)."""
    import calendar

    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def report_currency(ledger: Ledger, option: str | None) -> str:
    from ledger.core.money import known_currencies

    currency = (option or ledger.settings().home_currency or "USD").upper()
    if currency not in known_currencies():
        raise UsageError(f"unknown currency {currency!r}", hint="use an ISO 4217 code, e.g. PKR")
    return currency
