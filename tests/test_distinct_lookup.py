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
        "d": [True, False, None, True, True, None, False, True, False],
    })


def _make(combos: pl.DataFrame) -> pl.DataFrame:
    keys = [c for c in ("a", "b", "c") if c in combos.columns]
    return combos.with_columns(
        joined=pl.concat_str(keys, separator="/", ignore_nulls=True),
        blank=pl.col("a").is_null() | pl.col("b").is_null())


def test_codes_lookup_is_the_strings_lookup():
    df = _frame()
    for keys in (["a"], ["a", "b"], ["a", "b", "c"], ["c", "a"], ["d"], ["a", "d", "b"]):
        fast = distinct.distinct_lookup(df, keys, lambda combos, k=keys: combos.with_columns(
            joined=pl.concat_str([pl.col(c).cast(pl.String) for c in k], separator="/",
                                 ignore_nulls=True),
            blank=pl.any_horizontal(pl.col(c).is_null() for c in k)))
        slow = lookup(df, df.select(keys).unique().with_columns(
            joined=pl.concat_str([pl.col(c).cast(pl.String) for c in keys], separator="/",
                                 ignore_nulls=True),
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


def test_paypal_legs_per_combination_are_each_rows_own():
    """paypal._legs: counterparty, kind and category worked out per (payer, kind, category,
    sign) are what the row-by-row rule gives (own money, refunds, payments in and out)."""
    from decimal import Decimal

    from importers import paypal
    from importers.base import is_platform, nonblank

    names = ["Acme", None, " ", "PayPal", "Acme", None, "Upwork Escrow", "Bob"]
    froms = ["a@x.com", "b@y.com", "c@z.com", None, "a@x.com", " ", "e@upwork.com", None]
    tos = ["me@m.com", "d@w.com", None, "e@v.com", "me@m.com", "f@u.com", None, "g@h.com"]
    gross = ["10", "-5", "7", "-3", "-1", "2", "50", "0"]
    kinds = ["payment", "payment", "refund", "payment", "fx", "payment", "payment", "refund"]
    n = len(names)
    df = pl.DataFrame({
        "_line": range(2, 2 + n), "date": [None] * n, "currency": ["USD"] * n,
        "gross": [Decimal(g) for g in gross], "fee": [Decimal(0)] * n,
        "_name": names, "_from": froms, "_to": tos, "type": ["Payment"] * n,
        "_subject": [None] * n, "_id": [f"T{i}" for i in range(n)], "_ref": [None] * n,
        "kind": kinds, "category": [f"c{k}" for k in kinds],
    }, schema_overrides={"date": pl.Date, "_name": pl.String, "_from": pl.String,
                         "_to": pl.String, "_subject": pl.String, "_ref": pl.String})
    payer = pl.coalesce(nonblank(pl.col("_name")), nonblank(pl.col("_from")))
    payee = pl.coalesce(nonblank(pl.col("_name")), nonblank(pl.col("_to")))
    domains = pl.concat_str([pl.col("_from").str.extract(r"@(.+)$"),
                             pl.col("_to").str.extract(r"@(.+)$")], separator=" ",
                            ignore_nulls=True)
    own = is_platform(pl.coalesce(nonblank(pl.col("_name")), domains))
    payment = pl.col("kind") == "payment"
    money_in = pl.col("gross") >= 0
    direct = df.select(
        counterparty=pl.when(payment | (pl.col("kind") == "refund"))
        .then(pl.when(money_in).then(payer).otherwise(payee)),
        kind=pl.when(payment & own).then(pl.lit("transfer")).when(payment)
        .then(pl.when(money_in).then(pl.lit("earning")).otherwise(pl.lit("expense")))
        .otherwise(pl.col("kind")),
        category=pl.when(payment & own).then(pl.lit("receipt")).otherwise(pl.col("category")))
    legs = paypal._legs(df)
    assert legs.select("counterparty", "kind", "category").equals(direct)
    assert "transfer" in direct["kind"].to_list() and "expense" in direct["kind"].to_list()


def test_paypal_currency_cells_kept_as_written_only_where_trimming_changes_none():
    from importers import paypal

    for cells in (["USD", "EUR", None, ""], ["usd", "EUR"], [" USD", "EUR"], ["Usd\t"],
                  ["ÉUR", "USD"], [None, None]):
        df = pl.DataFrame({"_currency": cells}, schema={"_currency": pl.String})
        assert df.select(paypal._currency(df)).to_series().to_list() == df.select(
            pl.col("_currency").str.strip_chars().str.to_uppercase()).to_series().to_list()
