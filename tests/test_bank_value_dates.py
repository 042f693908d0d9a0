"""The value dates a statement's import reads (those not written as their row's date, and
not blank) are found by one comparison before any cell is trimmed: the same rows, in the
same order, as trimming every cell first."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from importers import bank
from importers.base import nonblank
from importers.readers import LINE

CELLS = st.one_of(st.none(), st.sampled_from(["", " ", "01/02/24", " 01/02/24", "02/02/24",
                                               "31/04/24", "x"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(CELLS, CELLS), max_size=12))
def test_value_dates_read_are_those_differing_and_not_blank(cells):
    df = pl.DataFrame({LINE: list(range(2, len(cells) + 2)),
                       "_date": [c[0] for c in cells], "_value_date": [c[1] for c in cells]},
                      schema={LINE: pl.Int64, "_date": pl.String, "_value_date": pl.String})
    same = (pl.col("_value_date") == pl.col("_date")).fill_null(False)
    expected = df.filter(nonblank(pl.col("_value_date")).is_not_null() & ~same) \
        .select(LINE, "_value_date")
    assert bank._value_dates(df).equals(expected)
