"""The shortcuts that keep a year's report near a month's CPU give the slow paths' answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import pairwise

import polars as pl
import pytest

from ledger.counting import kept


def _frames() -> list[pl.DataFrame]:
    n = 300_000
    wide = pl.DataFrame({
        "date": pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 12, 31), eager=True)
        .sample(n, with_replacement=True, seed=1),
        "amount": pl.Series([Decimal("1.25")] * n, dtype=pl.Decimal(38, 4)),
        "line": pl.int_range(n, eager=True),
        "ref": pl.int_range(n, eager=True).cast(pl.String),
        "hours": pl.Series([None, 1.5] * (n // 2), dtype=pl.Float64)})
    return [wide, wide.head(1000), wide.filter(pl.col("line") % 3 == 0), wide.slice(7, 200_000),
            wide.with_columns(pl.lit(None, pl.Date).alias("none"), pl.lit(2.5).alias("two")),
            pl.DataFrame({"a": [None] * 10}, schema={"a": pl.Float64}),
            pl.DataFrame({"s": ["x" * 50] * 200_000})]


@pytest.mark.parametrize("frame", _frames())
def test_fixed_size_bounds_the_estimate(frame: pl.DataFrame) -> None:
    """`_fixed_size` never exceeds `estimated_size`, so `_size` keeps exactly what the full
    estimate would keep (a frame whose bound is over MAX_BYTES is over it in full)."""
    assert kept._fixed_size(frame) <= frame.estimated_size()
    slow = frame.estimated_size() > kept.MAX_BYTES
    assert (kept._size((frame, [])) > kept.MAX_BYTES) == slow


def _valued(n: int = 4000) -> pl.DataFrame:
    """Valued rows over a year: three sources, every kind (transfers and subcontractor
    payouts too, which the months leave out), exact decimals with 12 places."""
    from ledger.core.schema import KINDS

    kinds = list(KINDS)
    return pl.DataFrame({
        "date": [dt.date(2024, 1, 1) + dt.timedelta(days=(i * 37) % 366) for i in range(n)],
        "source": [("paypal", "upwork", "wise:eur")[i % 3] for i in range(n)],
        "kind": pl.Series([kinds[(i * 7) % len(kinds)] for i in range(n)]).cast(
            pl.Enum(kinds)),
        "value": pl.Series([Decimal(f"{(-1) ** i * (i * 13 % 997)}.{i:012d}"[:20])
                            for i in range(n)], dtype=pl.Decimal(38, 12)),
        "hours": [None if i % 4 else 1.25 for i in range(n)],
        "counterparty": [None if i % 5 == 0 else f"client {i % 11}" for i in range(n)],
        "account": ["acct"] * n, "ref": [f"r{i}" for i in range(n)],
        "related_ref": [None] * n, "origin": ["source"] * n})


def test_day_sums_give_the_months_and_platforms_the_rows_give() -> None:
    """sums_by_month and by_platform read from `day_sums` (as the report does) give exactly
    what they give reading the valued rows themselves."""
    from ledger.counting.totals import day_sums, sums_by_month
    from ledger.reports import breakdown

    valued = _valued()
    daily = day_sums(valued.lazy()).collect()
    assert daily.height < valued.height
    assert sums_by_month(daily) == sums_by_month(valued)
    months, whole = sums_by_month(valued)
    assert len(months) == 12 and any(whole.values())
    hours = {"client 1": 3.0}
    slow = breakdown.by_platform(valued, "USD", hours)
    # the three platforms, then the item of no platform's money (expenses, other...)
    assert [p["platform"] for p in slow][3:] == [None] and len(slow) == 4
    assert breakdown.by_platform(valued, "USD", hours, daily=daily) == slow
    clients = breakdown.client_sums(valued).collect()
    assert breakdown.by_platform(valued, "USD", hours, clients=clients, daily=daily) == slow


@pytest.fixture(scope="module")
def year_ledger(tmp_path_factory):
    """A PayPal ledger of 2024 only, so a year's report holds every row."""
    from bench.generate import write_paypal
    from importers.base import ImportOptions
    from ledger.store.directory import Ledger
    from tests.conftest import TODAY

    root = tmp_path_factory.mktemp("year_all")
    ledger = Ledger(root / "ledger")
    ledger.import_files([write_paypal(root / "paypal.csv", 400)], ImportOptions(today=TODAY))
    return ledger


@pytest.mark.parametrize("period", [{"year": 2024}, {"month": "2024-06"}])
def test_rows_per_import_are_the_periods_rows(year_ledger, period) -> None:
    """The report's rows per import (no date filter when the period holds every row) are
    the period's rows counted per import_id, as filtering them gives."""
    from ledger.reports import report

    rows = year_ledger.rows()
    built = report.build(year_ledger, **period)
    start, end = dt.date.fromisoformat(built["period"]["from"]), \
        dt.date.fromisoformat(built["period"]["to"])
    if "year" in period:
        assert start <= rows["date"].min() and rows["date"].max() <= end
    expected = rows.filter(pl.col("date").is_between(start, end)).group_by("import_id").len(
    ).sort("import_id").rows()
    assert [(s["import_id"], s["rows"]) for s in built["sources"]] == expected
    assert built["rows"] == sum(n for _, n in expected) > 0


def test_refs_increase_as_a_full_sortedness_check_says() -> None:
    """`_refs_increase` (a sortedness check of the first 1,024 refs only) answers what a
    check of them all with the strict comparison answers: out of order early or late (past
    the prefix), a repeat early or late, strictly rising, empty, one."""
    from ledger.reports import breakdown

    rising = [f"{i:08d}" for i in range(5000)]
    cases = [rising, rising[:1], [*rising[:10], rising[5], *rising[10:]],
             [*rising[:3000], rising[10], *rising[3000:]], [*rising[:4000], *rising[3999:]],
             [rising[1], rising[0], *rising[2:]], rising[::-1]]
    for refs in cases:
        series = pl.Series(refs, dtype=pl.String)
        slow = series.is_sorted() and all(b > a for a, b in pairwise(refs))
        assert breakdown._refs_increase(series) == slow, refs[:3]
