"""Each country's tax year: which months `--tax-year YYYY` covers and what its tax office
calls it (docs/tax-year.md lists the sources).

A tax year is named here by the calendar year it *ends* in, the way Pakistan's FBR names it
("tax year 2024" is July 2023 to June 2024); each country's own label is shown beside it
(India's "FY 2023-24", Bangladesh's "income year 2023-24").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.core.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

    from ledger.core.periods import Period


@dataclass(frozen=True)
class FiscalYear:
    """How a country's tax year runs: the month it starts in (1 = the calendar year), how its
    tax office labels the year ending in `end_year`, and where that is defined."""

    country: str
    start_month: int
    label: str
    """A format string over {end} (the year it ends in), {start} and {short} (end % 100)."""
    authority: str
    source: str


CALENDAR = FiscalYear("", 1, "calendar year {end}", "",
                      "no tax year is known for this country: the calendar year is used")

YEARS: dict[str, FiscalYear] = {
    "PK": FiscalYear("PK", 7, "tax year {end}", "FBR",
                     "Income Tax Ordinance 2001, s.74: twelve months ending 30 June, denoted "
                     "by the calendar year in which 30 June falls"),
    "IN": FiscalYear("IN", 4, "FY {start}-{short:02d} (AY {end}-{next_short:02d})",
                     "Income Tax Department", "Income-tax Act 1961, s.3: the previous year is "
                     "the financial year 1 April to 31 March; it is assessed in the "
                     "assessment year that follows"),
    "BD": FiscalYear("BD", 7, "income year {start}-{short:02d} (assessment year "
                     "{end}-{next_short:02d})", "NBR",
                     "Income Tax Act 2023, s.2(15): the income year is the financial year "
                     "(1 July to 30 June) before the assessment year"),
    "PH": FiscalYear("PH", 1, "taxable year {end}", "BIR",
                     "National Internal Revenue Code: individuals file BIR Form 1701/1701A "
                     "for the calendar year"),
    "KE": FiscalYear("KE", 1, "year of income {end}", "KRA",
                     "Income Tax Act (Cap. 470), s.2: year of income is the calendar year; "
                     "the return is due by 30 June of the following year"),
    "NG": FiscalYear("NG", 1, "year of assessment {end}", "FIRS / State IRS",
                     "Personal Income Tax Act, s.100: a year of assessment is the twelve "
                     "months from 1 January; individuals file with their State Internal "
                     "Revenue Service (FIRS for FCT residents and non-residents)"),
}


def rules_for(country: str | None) -> FiscalYear:
    """The country's tax year; the calendar year for a country not listed (or none set)."""
    return YEARS.get((country or "").upper(), CALENDAR)


def tax_year(country: str | None, year: int) -> Period:
    """The tax year of `country` that ends in `year`, as a report Period with its label."""
    from ledger.core.periods import YEARS as REPORT_YEARS
    from ledger.core.periods import Period

    if not REPORT_YEARS[0] <= year <= REPORT_YEARS[1]:
        raise UsageError(f"--tax-year {year} is not a year", hint="e.g. --tax-year 2024")
    fy = rules_for(country)
    if fy.start_month == 1:
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    else:
        from dateutil.relativedelta import relativedelta

        start = dt.date(year - 1, fy.start_month, 1)
        end = start + relativedelta(years=1, days=-1)
    label = fy.label.format(end=year, start=start.year, short=year % 100,
                            next_short=(year + 1) % 100)
    where = f"{fy.authority} " if fy.authority else ""
    return Period(start, end, f"{where}{label} ({start:%-d %B %Y} to {end:%-d %B %Y})")


def for_ledger(ledger: object, year: int) -> Period:
    """`tax_year` for the country in the ledger's ledger.toml."""
    return tax_year(ledger.settings().country, year)  # type: ignore[attr-defined]


def year_expr(date: pl.Expr, country: pl.Expr) -> pl.Expr:
    """The tax year (the calendar year it ends in) of each date, per row's country: the
    vectorised form of `tax_year` for panels (ledger batch --period fiscal)."""
    import polars as pl

    starts = {code: fy.start_month for code, fy in YEARS.items() if fy.start_month != 1}
    start = country.str.to_uppercase().replace_strict(starts, default=1,
                                                       return_dtype=pl.Int8)
    year = date.dt.year()
    return pl.when((start > 1) & (date.dt.month() >= start)).then(year + 1).otherwise(year)


TAX_YEAR_MEANING = ("tax year of `month` in the worker's country, named by the calendar year "
                    "it ends in (PK, BD: July-June, so 2023-07 is 2024; IN: April-March; "
                    "others: the calendar year); written with `ledger batch --period fiscal`")


def with_tax_year(panel: pl.DataFrame) -> pl.DataFrame:
    """A worker-month panel (`month` YYYY-MM, `country`) with a `tax_year` column (Int32)."""
    import polars as pl

    first = (pl.col("month") + "-01").str.to_date("%Y-%m-%d")
    return panel.with_columns(year_expr(first, pl.col("country")).cast(pl.Int32)
                              .alias("tax_year"))
