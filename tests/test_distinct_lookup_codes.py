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


def test_keys_of_two_values_are_not_hashed_and_still_looked_up():
    n = csv_parts.FEW_ROWS + 10
    late = ["x"] * n
    late[-1] = "y"  # a second value past the first rows
    third = ["x", "y"] * (n // 2)
    third[-1] = "z"  # a third value past the first rows
    df = pl.DataFrame({"one": ["x"] * n, "late": late, "none": [None] * n, "third": third,
                       "some": [None] * (n - 1) + ["x"], "two": ["y", "x"] * (n // 2)},
                      schema={k: pl.String for k in ("one", "late", "none", "some", "third",
                                                     "two")})
    assert not csv_parts.two_values(df["one"]).any()
    assert csv_parts.two_values(df["late"]).to_list() == [False] * (n - 1) + [True]
    assert csv_parts.two_values(df["two"]).to_list() == [False, True] * (n // 2)
    for key in ("none", "some", "third"):
        assert csv_parts.two_values(df[key]) is None, key
    assert csv_parts.two_values(df.clear()["one"]) is None
    for keys in (["one"], ["none"], ["one", "none"], ["late", "one"], ["some", "one", "late"],
                 ["two", "third"], ["third", "late", "two"], ["one", "two"]):
        _check(df, keys)
    _check(df.head(3), ["third", "two"])
    _check(df.clear(), ["one", "two"])
