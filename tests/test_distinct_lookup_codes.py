"""importers.csv_parts.distinct_lookup's combined codes: keys of one value (not hashed), keys
with and without nulls (null as one more code, or none), Boolean and given codes, in every
mix: the lookup is what the lookup on the strings themselves (importers.base.lookup over
`unique`) gives, and `make` sees each combination once, in the order of its first row."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from importers import csv_parts
from importers.base import lookup

KEYS = ["s", "t", "u", "b", "g"]


def _make(keys: list[str]):
    def make(combos: pl.DataFrame) -> pl.DataFrame:
        return combos.with_columns(
            joined=pl.concat_str([pl.col(k).cast(pl.String).fill_null("~") for k in keys],
                                 separator="/"),
            blank=pl.any_horizontal(pl.col(k).is_null() for k in keys))
    return make


def _check(df: pl.DataFrame, keys: list[str], codes: dict[str, str] | None = None) -> None:
    seen: list[list[tuple]] = []

    def make(combos: pl.DataFrame) -> pl.DataFrame:
        seen.append(combos.select(keys).rows())
        return _make(keys)(combos)

    fast = csv_parts.distinct_lookup(df, keys, make, codes)
    slow = lookup(df, _make(keys)(df.select(keys).unique()), keys)
    assert fast.select(slow.columns).equals(slow), keys
    assert seen == [df.select(keys).unique(maintain_order=True).rows()]


cell = st.sampled_from(["a", "b", "", " a", None])


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 40).flatmap(lambda n: st.tuples(
    *[st.one_of(st.lists(cell, min_size=n, max_size=n),
                st.sampled_from(["x", None, ""]).map(lambda v, n=n: [v] * n))] * 3,
    st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n),
    st.lists(st.sampled_from(["p", "q", None]), min_size=n, max_size=n))),
    st.permutations(KEYS), st.integers(1, 5), st.booleans())
def test_codes_lookup_is_the_strings_lookup(columns, order, how_many, given_codes):
    s, t, u, b, g = columns
    df = pl.DataFrame({"s": s, "t": t, "u": u, "b": b, "g": g},
                      schema={"s": pl.String, "t": pl.String, "u": pl.String, "b": pl.Boolean,
                              "g": pl.String})
    codes = None
    if given_codes:  # g's code given, as importers/payoneer_fields.py gives them
        df = df.with_columns(pl.col("g").cast(pl.Categorical(pl.Categories.random()))
                             .to_physical().alias("\0g"))
        codes = {"g": "\0g"}
    _check(df, list(order[:how_many]), codes)


def test_one_value_keys_are_not_hashed_and_still_looked_up():
    n = csv_parts.FEW_ROWS + 10
    late = ["x"] * n
    late[-1] = "y"  # a second value past the first rows
    df = pl.DataFrame({"one": ["x"] * n, "late": late, "none": [None] * n,
                       "some": [None] * (n - 1) + ["x"]},
                      schema={k: pl.String for k in ("one", "late", "none", "some")})
    assert csv_parts._one_value(df["one"]) and csv_parts._one_value(df["none"])
    assert not csv_parts._one_value(df["late"]) and not csv_parts._one_value(df["some"])
    for keys in (["one"], ["none"], ["one", "none"], ["late", "one"], ["some", "one", "late"]):
        _check(df, keys)
