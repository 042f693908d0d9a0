"""money.fast_path (a regex test, then a Decimal cast) never reads a cell otherwise than the
full parser (`amount_expr`) does: on adversarial cells (exponents, signs, white space, other
scripts' digits, too many decimals, misplaced grouping), with either decimal mark, in a column
whose grouping is found in its first rows or only later (`_regrouped`). polars' Decimal cast
alone accepts more than the fast test lets through ("1e5" -> 100000, "1.23456" -> 1.2346): the
test is what keeps those from being read; these tests fail if it lets one through."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core import money

ALPHABET = "0123456789,.-+eE ()\t\u00a0'_١１$"
TRICKY = ["1.23456", "1.23450", "1e5", "1E5", "1.2e3", " 12", "12 ", "+3", "-3", "", "-",
          "1,234.5", "1.234,5", "1,23,456.78", "12,50", "1,2", ".5", "-.5", "1.", "00012",
          "-0", "1_000", "١٢", "１２", "0x10", "inf", "NaN", "--3", "+-3", "3-", "(3)",
          "99999999999999999999999999999999999", "9999999999999999999999999999999999.9999",
          "1,000,000.0001", "1,000.00001", "1.000.000,0001", "12.3.4", "1,,234"]


def _full(values: pl.Series, mark: str) -> list:
    return values.to_frame("v").select(money.amount_expr("v", mark)).to_series().to_list()


def _check(cells: list[str | None], mark: str) -> int:
    """Asserts fast == full parser on every cell the fast path takes, and parse_amounts ==
    full parser on every cell; returns how many cells the fast path took."""
    values = pl.Series("v", cells, dtype=pl.String)
    fast, cast = money.fast_path(values.to_frame(), mark)
    full = _full(values, mark)
    taken = fast["v"].to_list()
    for cell, took, got, want in zip(cells, taken, cast["v"].to_list(), full, strict=True):
        if took:
            assert got == want, (cell, mark, got, want)
    assert money.parse_amounts(values, mark).to_list() == full
    return sum(taken)


@pytest.mark.parametrize("mark", [".", ","])
@pytest.mark.parametrize("head", [None, "1,000.00", "1.000,00", "12.50", "12,50"])
def test_tricky_cells_read_as_the_full_parser(mark: str, head: str | None) -> None:
    cells = ([head] if head else []) + TRICKY + [None]
    _check(cells, mark)
    # grouping found past the head only: `_regrouped` casts those cells again
    _check(["1.00"] * (money.GROUPED_HEAD + 1) + TRICKY, mark)


def test_the_fast_path_refuses_what_the_cast_alone_would_misread() -> None:
    values = pl.Series("v", ["1e5", "1.23456", "+3", " 12", ".5", "1,234.5", "12.5"])
    fast, _ = money.fast_path(values.to_frame(), ".")
    assert fast["v"].to_list() == [False, False, False, False, False, True, True]
    assert values.cast(pl.Decimal(38, 4), strict=False)[:2].to_list() != [None, None], \
        "polars' cast accepts these: the fast test must be what refuses them"
    assert _full(values, ".")[:2] == [None, None]


number = st.builds(
    lambda sign, whole, frac, group: sign + (f"{whole:,}" if group else str(whole))
    + ("" if frac is None else "." + frac),
    st.sampled_from(["", "-", "+", "(", " "]), st.integers(0, 10**20),
    st.one_of(st.none(), st.text(alphabet="0123456789", max_size=7)), st.booleans())
cell = st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=14), st.sampled_from(TRICKY),
                 number, number.map(lambda s: s.translate(str.maketrans(",.", ".,"))))


@settings(max_examples=400, deadline=None)
@given(st.lists(cell, min_size=1, max_size=50), st.sampled_from([".", ","]),
       st.sampled_from([0, 1, money.GROUPED_HEAD + 1]))
def test_fast_path_is_the_full_parser(cells: list[str | None], mark: str, pad: int) -> None:
    """`pad` plain cells first: the grouping is then in the head (pad 0, 1) or past it."""
    _check(["7.25"] * pad + cells, mark)


def test_the_fast_path_is_taken() -> None:
    """(So the comparisons above compare something.)"""
    assert _check(["1,234.56", "-12.5", "1234", "0.0001"], ".") == 4
    assert _check(["1.234,56", "-12,5", "1234", "0,0001"], ",") == 4
