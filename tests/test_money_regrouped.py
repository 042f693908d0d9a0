"""money.fast_path with the decimal point casts a column with no grouping in its first rows
as it is and casts again, grouping removed, the cells that cast refused (`_regrouped`): the
amounts are those of the slow path (every cell of a column with any grouping cast with it
removed; and the full parser, `amount_expr`), wherever the first grouped cell is."""

from __future__ import annotations

import polars as pl
import pytest

from ledger.core import money

N = money.GROUPED_HEAD + 1000
CELLS = ["12.5", "-1,234.56", "1,234", "12,345,678.9", "1,23,456.00", "1234.", "-0.5",
         "99999999999999999999999999999999999", "(1,234.00)", "1,2", "", None, "1e3", "+5",
         "1,234.", " 12.00", "12.00 ", "0,001", "1,000,000.0001", "1,000.00001"]


def _slow(values: pl.DataFrame) -> pl.DataFrame:
    """The cast of the fast cells as it was: grouping removed from every cell of a column
    that has any anywhere."""
    fast = values.select(pl.col(n).str.contains(money._fast(",", ".")).fill_null(False)
                         for n in values.columns)
    out = {}
    for name in values.columns:
        column = values.get_column(name)
        if column.str.contains(",", literal=True).any():
            column = column.str.replace_all(",", "", literal=True)
        out[name] = pl.select(pl.when(pl.lit(fast[name])).then(pl.lit(column))
                              .cast(pl.Decimal(38, money.SCALE), strict=False)).to_series()
    return pl.DataFrame(out)


@pytest.mark.parametrize("where", [None, 0, 10, money.GROUPED_HEAD - 1, money.GROUPED_HEAD,
                                   N - 1])
def test_regrouped_is_the_slow_cast(where: int | None) -> None:
    plain = ["12.50"] * N
    mixed = list(plain)
    if where is not None:
        for step, cell in enumerate(CELLS):
            mixed[min(where + step * 7, N - 1 - step)] = cell
    values = pl.DataFrame({"a": mixed, "b": plain, "c": [None] * N},
                          schema={"a": pl.String, "b": pl.String, "c": pl.String})
    _, cast = money.fast_path(values, ".")
    assert cast.equals(_slow(values))
    parsed = money.parse_amounts(values["a"], ".")
    full = values.select(money.amount_expr("a", ".")).to_series()
    assert parsed.equals(full.alias("a"))


def test_a_grouped_cell_past_the_head_is_cast_without_its_commas() -> None:
    cells = ["1.00"] * N + ["-1,234.56"]
    _, cast = money.fast_path(pl.DataFrame({"v": cells}), ".")
    assert str(cast["v"][-1]) == "-1234.5600"
    assert money._grouped_columns(pl.DataFrame({"v": cells}), ",", head_only=True) == [False]
