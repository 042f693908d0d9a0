"""csv_parts.in_order (a frame's columns copied once, in a given order, into one piece each)
is `df.rechunk()[order]` whatever the order and the columns' pieces: by runs of rows, by rows
one by one, or none; `newest_first_runs` are a stable ascending sort's rows."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from itertools import pairwise

import polars as pl
import pytest

from importers import csv_parts


def _frame(rows: int, pieces: int, seed: int) -> pl.DataFrame:
    """A frame of text (short and long cells, nulls), numbers and dates in `pieces` chunks."""
    rng = random.Random(seed)
    frame = pl.DataFrame({
        "text": [None if rng.random() < 0.05 else "x" * rng.randrange(0, 40) + str(n)
                 for n in range(rows)],
        "amount": pl.Series([Decimal(rng.randrange(-10**6, 10**6)) / 100 for _ in range(rows)],
                            dtype=pl.Decimal(38, 4)),
        "date": [dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(30)) for _ in range(rows)],
        "line": pl.int_range(2, rows + 2, eager=True),
    })
    cuts = sorted({0, rows, *(rng.randrange(rows) for _ in range(pieces - 1))})
    return pl.concat([frame.slice(a, b - a) for a, b in pairwise(cuts)],
                     rechunk=False)


def _order(frame: pl.DataFrame) -> pl.Series:
    return frame.select(pl.arg_sort_by("date", maintain_order=True)).to_series()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("how", ["runs", "rows", "none", "identity", "given runs"])
def test_in_order_is_the_rechunked_frame_gathered(seed, how, monkeypatch):
    frame = _frame(3000, 7, seed)
    assert frame.n_chunks() > 1
    if how == "runs":  # newest first: the days' runs backwards
        frame = frame.sort("date", descending=True, maintain_order=True)
        frame = pl.concat([frame.slice(0, 1000), frame.slice(1000)], rechunk=False)
        order = _order(frame)
        assert csv_parts._runs(order) is not None
    elif how == "rows":  # shuffled: runs too short, gathered row by row
        order = _order(frame)
        assert csv_parts._runs(order) is None
    elif how == "identity":
        frame = frame.sort("date", maintain_order=True)
        order = _order(frame)
    elif how == "given runs":
        frame = frame.sort("date", descending=True, maintain_order=True)
        order = csv_parts.newest_first_runs(frame["date"])
        assert order is not None and len(order) > 1
    else:
        order = None
    expected = frame.rechunk()
    if how == "given runs":
        expected = expected[_order(frame)]
    elif order is not None:
        expected = expected[order]
    got = csv_parts.in_order(frame.clone(), order)
    assert got.equals(expected) and got.schema == expected.schema
    assert set(got.n_chunks("all")) == {1}


def test_newest_first_runs_are_a_stable_sorts_rows(monkeypatch):
    monkeypatch.setattr(csv_parts, "RUN_ROWS", 1)
    days = pl.Series([dt.date(2024, 3, d) for d in (9, 9, 9, 7, 5, 5, 2, 2, 2, 2, 1)])
    runs = csv_parts.newest_first_runs(days)
    rows = [start + n for start, length in runs for n in range(length)]
    expected = days.to_frame("d").select(pl.arg_sort_by("d", maintain_order=True)).to_series()
    assert rows == expected.to_list()
    assert csv_parts.newest_first_runs(days.reverse()) is None  # they rise: not newest first
    monkeypatch.setattr(csv_parts, "RUN_ROWS", 4)  # 5 runs of 11 rows: too short
    assert csv_parts.newest_first_runs(days) is None


def test_no_rows_in_any_order():
    frame = pl.DataFrame({"a": [], "b": []}, schema={"a": pl.String, "b": pl.Int64})
    for order in (None, [], pl.Series([], dtype=pl.UInt32)):
        got = csv_parts.in_order(frame.clone(), order)
        assert got.equals(frame) and got.schema == frame.schema
