"""importers.csv_parts.distinct_lookup: the lookup on integer codes gives what the lookup on
the strings themselves (importers.base.lookup over `unique`) gives, nulls matching nulls, and hands
`make` each combination once, in the order of its first row."""

from __future__ import annotations

import polars as pl

from importers import csv_parts as distinct
from importers.base import lookup


def _frame() -> pl.DataFrame:
    return pl.DataFrame({
        "a": ["x", "y", None, "x", "y", None, "z", "x", ""],
        "b": ["p", "p", "q", "p", None, "q", None, "q", ""],
        "c": ["1", "1", "1", "2", "1", "1", None, "2", None],
        "n": list(range(9)),
    })


def _make(combos: pl.DataFrame) -> pl.DataFrame:
    keys = [c for c in ("a", "b", "c") if c in combos.columns]
    return combos.with_columns(
        joined=pl.concat_str(keys, separator="/", ignore_nulls=True),
        blank=pl.col("a").is_null() | pl.col("b").is_null())


def test_codes_lookup_is_the_strings_lookup():
    df = _frame()
    for keys in (["a"], ["a", "b"], ["a", "b", "c"], ["c", "a"]):
        fast = distinct.distinct_lookup(df, keys, lambda combos, k=keys: combos.with_columns(
            joined=pl.concat_str(k, separator="/", ignore_nulls=True),
            blank=pl.any_horizontal(pl.col(c).is_null() for c in k)))
        slow = lookup(df, df.select(keys).unique().with_columns(
            joined=pl.concat_str(keys, separator="/", ignore_nulls=True),
            blank=pl.any_horizontal(pl.col(c).is_null() for c in keys)), keys)
        assert fast.equals(slow), keys


def test_make_gets_each_combination_once_in_file_order():
    seen = []

    def make(combos: pl.DataFrame) -> pl.DataFrame:
        seen.append(combos.select("a", "b").rows())
        return _make(combos)

    distinct.distinct_lookup(_frame(), ["a", "b"], make)
    assert seen == [[("x", "p"), ("y", "p"), (None, "q"), ("y", None), ("z", None),
                     ("x", "q"), ("", "")]]


def test_overflowing_codes_take_the_strings_way(monkeypatch):
    monkeypatch.setattr(distinct.math, "prod", lambda values: 2**63)
    df = _frame()
    out = distinct.distinct_lookup(df, ["a", "b", "c"], _make)
    assert out.equals(lookup(df, _make(df.select("a", "b", "c").unique()), ["a", "b", "c"]))


def test_empty_frame():
    df = _frame().clear()
    out = distinct.distinct_lookup(df, ["a", "b"], _make)
    assert out.columns == [*df.columns, "joined", "blank"] and out.height == 0
