"""Local income benchmarks: net earnings set next to minimum wages, poverty lines, income per head.

The bundled table (`ledger/data/benchmarks.csv`, with a source for every figure) is picked by
the ledger's `country` and the report's year: for each benchmark, the latest year at or before
it (or the earliest after, said so). Amounts are put on a monthly basis the way the table's
notes say (docs/benchmarks.md): hourly x 208 (8 h x 26 days; 173.33 for 40-hour-week countries),
daily x 26, yearly / 12; PPP-dollar lines and multiples of the minimum wage cannot be converted
at market rates and are listed without a ratio. Users add their own (a living wage they trust)
as `[[benchmarks]]` in ledger.toml.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

HOURS_PER_MONTH = Decimal(208)
HOURS_PER_MONTH_40H = Decimal("173.33")
FORTY_HOUR_COUNTRIES = {"US", "GB"}
DAYS_PER_MONTH = Decimal(26)
POVERTY_DAYS_PER_MONTH = Decimal("30.4")
NOT_CONVERTIBLE = ("PPP_", "x_local")

USER_FIELDS = ("name", "amount", "currency", "period")


def bundled_path() -> Path:
    """The bundled table, in the package's data folder (a path, not importlib.resources: that
    loads its readers, ~1 ms of every report, for a file that is always on disk)."""
    return Path(__file__).parent.parent / "data" / "benchmarks.csv"


def table(user: list[dict] | None = None, country: str | None = None) -> pl.DataFrame:
    """Bundled benchmarks plus the user's, as strings (amount exact), one row per figure."""
    import polars as pl

    df = pl.read_csv(bundled_path(), infer_schema=False, glob=False)
    rows = _user_rows(user, country)
    if rows:
        df = pl.concat([df, pl.DataFrame(rows, schema=df.schema)])
    return df


def pick(df: pl.DataFrame, country: str, year: int) -> list[dict]:
    """For each benchmark of the country: the rows of the latest year <= `year`, else the
    earliest later year. User rows (year 1900) always apply."""
    import polars as pl

    mine = df.filter(pl.col("country_iso2") == country.upper()).with_columns(
        pl.col("year").cast(pl.Int32))
    # one plan for every benchmark (was a loop of filters per benchmark)
    year_col, name = pl.col("year"), "benchmark"
    best = (pl.when((year_col <= year).any().over(name))
            .then(year_col.filter(year_col <= year).max().over(name))
            .otherwise(year_col.min().over(name)))
    chosen = year_col == best
    # a year given both per year and per month (a derived row): keep the monthly one
    month = pl.col("period") == "month"
    both = ((pl.col("period").filter(chosen).n_unique().over(name) > 1)
            & (chosen & month).any().over(name))
    picked = mine.lazy().filter(chosen & (~both | month))
    return list(picked.sort(name, maintain_order=True).collect(engine="in-memory")
                .iter_rows(named=True))


def for_country(user: list[dict] | None, country: str, year: int) -> list[dict]:
    """`pick(table(user, country), country, year)`, read with the csv module and picked in
    Python: a report reads a country's few rows of the ~180, and polars' reading and three
    plans cost ~2 ms of a small ledger's report. The same rows, in the same order, with the
    same values (tests/test_fast_commands.py compares them for every country and year); a
    year that is not plainly a number is left to polars (its error is the usual one)."""
    import re

    bundled = table_rows()
    extra = _user_rows(user, country)
    wanted = country.upper()
    mine = [row for row in [*bundled, *extra] if row["country_iso2"] == wanted]
    if not all(re.fullmatch(r"[0-9]{1,9}", row["year"]) for row in mine):
        return pick(table(user, country), country, year)
    by_name: dict[str, list[dict]] = {}
    for row in mine:
        by_name.setdefault(row["benchmark"], []).append({**row, "year": int(row["year"])})
    out = []
    for name in sorted(by_name):
        rows = by_name[name]
        years = [r["year"] for r in rows]
        earlier = [y for y in years if y <= year]
        best = max(earlier) if earlier else min(years)
        chosen = [r for r in rows if r["year"] == best]
        both = len({r["period"] for r in chosen}) > 1 \
            and any(r["period"] == "month" for r in chosen)
        out += [r for r in chosen if not both or r["period"] == "month"]
    return out


def table_rows() -> list[dict]:
    """The bundled table's rows as dicts of strings (the csv module: `table` without polars)."""
    import csv

    with open(bundled_path(), newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _user_rows(user: list[dict] | None, country: str | None) -> list[dict]:
    """The user's [[benchmarks]] as rows of the table (every value a string), each checked."""
    rows = []
    for number, item in enumerate(user or [], 1):
        missing = [f for f in USER_FIELDS if f not in item]
        if missing:
            raise UsageError(f"[[benchmarks]] entry {number} lacks {missing}",
                             hint='e.g. name = "living_wage", amount = "60000", currency = "PKR",'
                             ' period = "month", source = "Anker 2024"')
        rows.append({"country_iso2": str(item.get("country", country or "XX")).upper(),
                     "country": "", "year": str(item.get("year", 1900)),
                     "benchmark": str(item["name"]), "period": str(item["period"]),
                     "currency": str(item["currency"]).upper(), "amount": str(item["amount"]),
                     "source_title": str(item.get("source", "your ledger.toml")),
                     "source_url": str(item.get("url", "")), "note": "added by you"})
    return rows


def monthly(row: dict) -> tuple[Decimal, str] | None:
    """The figure per month and how it was derived; None where it cannot be (PPP, multiples)."""
    if row["currency"].startswith(NOT_CONVERTIBLE):
        return None
    amount = Decimal(row["amount"])
    period = row["period"]
    if period == "month":
        return amount, "per month"
    if period == "year":
        return amount / 12, "per year / 12"
    if period == "day":
        days = POVERTY_DAYS_PER_MONTH if "poverty" in row["benchmark"] else DAYS_PER_MONTH
        return amount * days, f"per day x {days}"
    if period == "hour":
        hours = HOURS_PER_MONTH_40H if row["country_iso2"] in FORTY_HOUR_COUNTRIES \
            else HOURS_PER_MONTH
        return amount * hours, f"per hour x {hours}"
    return None


def months_in(start: dt.date, end: dt.date) -> int:
    """Calendar months the period touches, both ends included."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def compare(rows: list[dict], net: Decimal, net_hourly: Decimal | None, months: int,
            to: str, convert, year: int) -> list[dict]:
    """Each benchmark as JSON-ready data with the monthly net's ratio to it.

    `convert(amount, currency) -> (amount_in_to, provenance)` values a benchmark in the report
    currency (a rate near the period's end).
    """
    from ledger.core.money import format_money

    per_month = net / months
    out = []
    for row in rows:
        base = {"name": row["benchmark"], "country": row["country_iso2"],
                "year": int(row["year"]) if int(row["year"]) > 1900 else None,
                "amount": row["amount"], "period": row["period"], "currency": row["currency"],
                "source": row["source_title"], "url": row["source_url"] or None,
                "note": row["note"] or None}
        if base["year"] is not None and base["year"] != year:
            base["picked"] = f"{base['year']} figure used for {year} (nearest available)"
        figure = monthly(row)
        if figure is None:
            out.append({**base, "monthly": None, "ratio": None,
                        "why": "PPP or relative figure: not convertible at market rates"})
            continue
        local, how = figure
        value, rate = convert(local, row["currency"])
        entry = {**base, "monthly_local": format_money(local, row["currency"]),
                 "monthly": format_money(value, to), "derived": how,
                 "ratio": f"{per_month / value:.2f}" if value else None, "rate": rate}
        if row["benchmark"] == "minimum_wage" and net_hourly is not None and value:
            hours = HOURS_PER_MONTH_40H if row["country_iso2"] in FORTY_HOUR_COUNTRIES \
                else HOURS_PER_MONTH
            hourly = value / hours
            entry["hourly"] = format_money(hourly, to)
            entry["hourly_ratio"] = f"{net_hourly / hourly:.2f}"
        out.append(entry)
    return out
