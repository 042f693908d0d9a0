"""Passes a statement's import no longer makes give what they gave (issue 23): the value
dates read (not blank, not written as their row's date) found by one comparison before any
cell is trimmed; the description trimmed once, not twice."""

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


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(CELLS, CELLS), min_size=1, max_size=8), st.booleans())
def test_a_description_is_trimmed_once_as_trimming_it_again_would(cells, joined):
    """`_described` takes `select_fields`' description as it is: trimmed there (a part, or
    each joined part) and never null, so trimming it again (as it once did) changes nothing."""
    from importers.bank_columns import select_fields
    from importers.csv_parts import trimmed

    profile = bank.load_profile(bank.PROFILES_DIR / "hdfc.toml")
    columns = {**profile.columns, "description": ["narration", "value dt"] if joined
               else ["narration"]}
    profile = type(profile)(**{**profile.__dict__, "columns": columns})
    df = pl.DataFrame({LINE: list(range(2, len(cells) + 2)),
                       **{c: [cell[0] for cell in cells] for c in profile.header},
                       "value dt": [cell[1] for cell in cells]},
                      schema={LINE: pl.Int64, **{c: pl.String for c in profile.header}})
    fields = select_fields(df, profile, profile.path)
    again = fields.select(trimmed(fields, pl.col("_description"), False).fill_null(""))
    assert bank._described(fields, profile)["description"].equals(again.to_series()
                                                                   .alias("description"))


def _dates_as_before(df: pl.DataFrame, formats: list[str]) -> pl.Series:
    """`bank_columns.parse_dates`' dates as it found them before: every format's dates
    year-checked, from an all-null start."""
    from importers.bank_columns import MIN_YEAR

    values = df["_date"].str.strip_chars()
    parsed = pl.Series("_date", [None] * df.height, dtype=pl.Date)
    for fmt in formats:
        if parsed.null_count() == values.null_count():
            break
        attempt = values.str.strptime(pl.Date, fmt, strict=False)
        parsed = parsed.fill_null(attempt.set((attempt.dt.year() < MIN_YEAR).fill_null(False),
                                              None))
    return parsed


DATES = st.sampled_from(["01/02/24", " 01/02/24 ", "31/12/99", "01/02/2024", "29/02/23",
                         "1/2/24", "01/02/0024", "2024-02-01", "01-Feb-24", "x", ""])
FORMATS = st.lists(st.sampled_from(["%d/%m/%y", "%d/%m/%Y", "%Y-%m-%d", "%d-%b-%y",
                                    "%m/%d/%y"]), min_size=1, max_size=3, unique=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(DATES, min_size=1, max_size=10), FORMATS)
def test_dates_are_those_found_before_the_year_check_was_skipped_for_two_digit_years(
        cells, formats):
    from importers.bank_columns import parse_dates
    from ledger.core.errors import DataError

    profile = bank.load_profile(bank.PROFILES_DIR / "hdfc.toml")
    df = pl.DataFrame({LINE: list(range(2, len(cells) + 2)), "_date": cells},
                      schema={LINE: pl.Int64, "_date": pl.String})
    expected = _dates_as_before(df, formats)
    try:
        got = parse_dates(df, formats, profile, profile.path)
    except DataError as exc:
        at = expected.is_null().arg_true()
        assert at.len() and f":{at[0] + 2}:" in str(exc)  # the first row none fits
        return
    assert got.equals(expected)


AMOUNTS = st.sampled_from([None, "", "0.00", "12.50", "1,234.56", "-3.00", "(4.00)"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(AMOUNTS, AMOUNTS), min_size=1, max_size=8))
def test_signed_amounts_are_credit_less_debit_as_before(cells):
    """Where no row has both a debit and a credit, the amount is the one a row has (no
    Decimal arithmetic on every row): what `credit - debit` gave."""
    from importers.bank_columns import signed_amounts
    from importers.base import parse_money_columns
    from ledger.core.errors import DataError

    profile = bank.load_profile(bank.PROFILES_DIR / "hdfc.toml")
    df = pl.DataFrame({LINE: list(range(2, len(cells) + 2)), "_debit": [c[0] for c in cells],
                       "_credit": [c[1] for c in cells]},
                      schema={LINE: pl.Int64, "_debit": pl.String, "_credit": pl.String})
    try:
        got = signed_amounts(df, profile, profile.path, ".")
    except DataError:
        return  # neither, or both (the checks themselves are test_bank's)
    both = parse_money_columns(df, {"debit": (pl.col("_debit"), "d", False),
                                    "credit": (pl.col("_credit"), "c", False)},
                               path=profile.path)
    expected = both["credit"].abs().fill_null(0) - both["debit"].abs().fill_null(0)
    assert got.dtype == expected.dtype and got.to_list() == expected.to_list()
