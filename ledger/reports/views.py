"""Month-by-month view of a longer report period (`--year`, `--from/--to`).

A year's total hides the months a freelancer lived through: the slow month after a contract
ended, the month Connects ate the margin. Each month here is counted exactly like the whole
period (ledger.totals: compute_totals and present_totals on that month's valued rows, hours by
the hours.combine rule), so the months' rounded nets add up to the period's within the rounding
of each line, and each month can be compared with the local benchmark.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

PREFERRED_BENCHMARKS = ("minimum_wage", "living_wage", "gdp_per_capita")
"""The benchmark each month is compared with: the first of these the report has, else its first."""


def monthly(valued: pl.DataFrame, timesheet: pl.DataFrame, currency: str,
            benchmarks: list[dict]) -> list[dict]:
    """One dict per calendar month with rows: the report's totals lines, hours, net hourly,
    the ratio of net to the chosen benchmark's monthly amount, and the change in net from the
    month before (None for the first month or after a month with no net)."""
    import polars as pl

    from importers import hours
    from ledger.counting.totals import compute_totals, present_totals

    benchmark = _benchmark(benchmarks)
    month = pl.col("date").dt.strftime("%Y-%m")
    out: list[dict] = []
    sheet = timesheet.with_columns(month.alias("_month"))
    previous: Decimal | None = None
    for (label,), part in sorted(valued.with_columns(month.alias("_month"))
                                 .partition_by("_month", as_dict=True).items()):
        totals = compute_totals(part)
        worked = sheet.filter(pl.col("_month") == label)
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


def _benchmark(benchmarks: list[dict]) -> dict | None:
    usable = [b for b in benchmarks if b.get("monthly")]
    for name in PREFERRED_BENCHMARKS:
        for item in usable:
            if item["name"] == name:
                return item
    return usable[0] if usable else None
