"""The shortcuts that keep a year's report near a month's CPU give the slow paths' answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

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
