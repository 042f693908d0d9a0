"""Month-by-month view of a longer report period (`--year`, `--from/--to`).

A year's total hides the months a freelancer lived through: the slow month after a contract
ended, the month Connects ate the margin. Each month here is counted exactly like the whole
period (ledger.totals: the exact sums per kind from one group_by over the period, then
totals_of and present_totals per month, hours by the hours.combine rule), so the months'
rounded nets add up to the period's within the rounding of each line, and each month can be
compared with the local benchmark.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl

PREFERRED_BENCHMARKS = ("minimum_wage", "living_wage", "gdp_per_capita")
"""The benchmark each month is compared with: the first of these the report has, else its first."""


def monthly(sums: dict[str, dict[str, Decimal]], billed: pl.DataFrame,
            timesheet: pl.DataFrame, currency: str, benchmarks: list[dict]) -> list[dict]:
    """One dict per calendar month with rows: the report's totals lines, hours, net hourly,
    the ratio of net to the chosen benchmark's monthly amount, and the change in net from the
    month before (None for the first month or after a month with no net).

    `sums`: each month's exact sum per kind (ledger.totals.sums_by_month: one group_by for the
    whole period); `billed`: the period's rows that bill hours (`billed_hours`), the only ones
    hours.combine reads; `timesheet`: the period's timesheet rows."""
    import polars as pl

    from importers import hours
    from ledger.counting.totals import present_totals, totals_of

    benchmark = _benchmark(benchmarks)
    month = pl.col("date").dt.strftime("%Y-%m")
    sheet = timesheet.with_columns(month.alias("_month"))
    part_of = _months_of(billed, list(sums))
    out: list[dict] = []
    previous: Decimal | None = None
    for label, by_kind in sums.items():
        totals = totals_of(by_kind)
        part = part_of(label)
        worked = sheet.filter(pl.col("_month") == label)
        if worked.is_empty():  # hours.combine's rule with no timesheet: the platform's hours
            totals["hours"], totals["unpaid_hours"] = _billed(part), 0.0
        else:
            totals["hours"], totals["unpaid_hours"], _ = hours.combine(part, worked)
        shown = present_totals(totals, currency)
        net = Decimal(shown["net"])
        row: dict = {"month": label, **shown}
        row["benchmark"] = benchmark["name"] if benchmark else None
        row["benchmark_ratio"] = (f"{net / Decimal(benchmark['monthly']):.2f}"
                                  if benchmark and Decimal(benchmark["monthly"]) else None)
        row["net_change"] = (f"{(net - previous) / abs(previous):.4f}"
                             if previous else None)
        previous = net
        out.append(row)
    return out


def _billed(part: pl.DataFrame) -> float:
    """Paid hours of a month without timesheet rows, as hours.combine counts them (per client,
    then their sum), without its plan for timesheet hours (twelve of them cost a year's
    report more than its whole period's)."""
    import polars as pl

    return float(part.group_by("counterparty").agg(pl.col("hours").sum())["hours"].sum()
                 or 0.0)


def _months_of(rows: pl.DataFrame, labels: list[str]) -> Callable[[str], pl.DataFrame]:
    """A month's rows (`YYYY-MM`) of `rows`, in their order. Rows sorted by date (a ledger's
    are) are sliced where each month starts, without a copy; others are split by a month
    column (a year's billed rows copied, and their dates written out as text, cost a
    year's report more than its twelve months' hours)."""
    import datetime as dt

    import polars as pl

    dates = rows["date"]
    if not dates.is_sorted():
        parts = rows.with_columns(pl.col("date").dt.strftime("%Y-%m").alias("_month")) \
            .partition_by("_month", as_dict=True)
        return lambda label: parts.get((label,), rows.clear())

    def first(label: str, later: int = 0) -> dt.date:
        year, month = divmod(int(label[:4]) * 12 + int(label[5:7]) - 1 + later, 12)
        return dt.date(year, month + 1, 1)

    bounds = pl.Series([d for label in labels for d in (first(label), first(label, 1))],
                       dtype=pl.Date)
    at = dates.search_sorted(bounds, side="left").to_list()
    spans = {label: (at[2 * i], at[2 * i + 1]) for i, label in enumerate(labels)}
    return lambda label: rows.slice(spans[label][0], spans[label][1] - spans[label][0])


def billed_hours(valued: pl.DataFrame) -> pl.DataFrame:
    """The valued rows hours.combine counts platform-billed hours from (earnings with hours),
    with the columns it reads: all a month of `monthly` needs beyond its sums."""
    import polars as pl

    from ledger.core.schema import engine_for

    return valued.lazy().filter(pl.col("hours").is_not_null() & (pl.col("kind") == "earning")
                                ).select("date", "kind", "counterparty", "hours").collect(
        engine=engine_for(valued.height))


def _benchmark(benchmarks: list[dict]) -> dict | None:
    usable = [b for b in benchmarks if b.get("monthly")]
    for name in PREFERRED_BENCHMARKS:
        for item in usable:
            if item["name"] == name:
                return item
    return usable[0] if usable else None
