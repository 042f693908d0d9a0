"""A statement's import made cheaper gives what it gave (issue 23, session 37): kinds found a
sign at a time on shrinking descriptions, against the rule-by-rule masks they replaced."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from importers import bank_columns
from importers.bank_profiles import COMMON_KINDS, Rule


def _classified_as_before(df: pl.DataFrame, rules) -> pl.DataFrame:
    """`bank_columns.classify` as it was: a mask of the whole table per rule, the rows it
    leaves searched, scattered, and the rule numbers replaced by kinds and categories."""
    height = df.height
    description = df["description"]
    signs = {"credit": (df["amount"] > 0).fill_null(False),
             "debit": (df["amount"] < 0).fill_null(False)}
    first = pl.repeat(None, height, dtype=pl.UInt16, eager=True).alias("_rule")
    done = pl.repeat(False, height, dtype=pl.Boolean, eager=True)
    for number, rule in enumerate(rules):
        todo = ~done & signs[rule.sign] if rule.sign else ~done
        rows = todo.arg_true()
        if rule.match and rows.len():
            hit = description.gather(rows).str.contains(f"(?i){rule.match}").fill_null(False)
            rows = rows.filter(hit)
        if rows.len():
            first.scatter(rows, number)
            done.scatter(rows, True)
    kinds = {n: r.kind for n, r in enumerate(rules)}
    categories = {n: r.category for n, r in enumerate(rules)}
    return df.with_columns(first).with_columns(
        kind=pl.col("_rule").replace_strict(kinds, default="other", return_dtype=pl.String),
        category=pl.col("_rule").replace_strict(categories, default=None,
                                                return_dtype=pl.String),
    ).drop("_rule")


WORDS = ["ATW-1234", "markup", "PAYONEER", "upi", "gst on charges", "sms alert", "Interest",
         "neft cr", "atm", "pos amazon", "", " ", "tds", "Transfer to", "fee"]
ROWS = st.lists(st.tuples(
    st.one_of(st.none(), st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join)),
    st.one_of(st.none(), st.sampled_from(["-5", "0", "3.25", "-0.01", "100"]))),
    max_size=30)
OWN = [Rule("^(ATW|NWD|EAW)-", "debit", "transfer", "cash_withdrawal"),
       Rule("markup", None, "bank_fee", "fx_markup"),
       Rule(None, "credit", "earning", None),
       Rule("upi", "debit", "expense", "upi")]


@settings(max_examples=300, deadline=None)
@given(ROWS, st.lists(st.sampled_from(OWN), max_size=4), st.booleans())
def test_kinds_are_those_the_rule_by_rule_masks_gave(rows, own, common):
    rules = tuple(own) + (COMMON_KINDS if common else ())
    df = pl.DataFrame({"description": [r[0] for r in rows],
                       "amount": [None if r[1] is None else Decimal(r[1]) for r in rows]},
                      schema={"description": pl.String, "amount": pl.Decimal(38, 4)})
    got = bank_columns.classify(df, rules)
    assert got.equals(_classified_as_before(df, rules))
    assert got.schema == _classified_as_before(df, rules).schema

