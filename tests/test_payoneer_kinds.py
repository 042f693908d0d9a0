"""`payoneer_kinds.kinds` (the rules run once per distinct row shape, looked up for each row)
gives each row what `classify` and `counterparty` run on every row give (issue 23)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import polars as pl

from importers import payoneer_kinds


def _rows() -> pl.DataFrame:
    """Every combination of description, store, payer, payee and amount, each twice, in a
    shuffled order: shapes repeat, and the amounts of one shape differ."""
    texts = ["Withdrawal fee", "Card charge Amazon", "USD to EUR", "Transfer to bank account",
             "Payment from Upwork Global Inc", "Payment from Acme", "Payment to Bob",
             "ATM cash withdrawal", "Service charge", "Something else", "", None]
    names = ["Shop", "Upwork Global Inc.", "PayPal", "Acme", None]
    amounts = ["-3.50", "0", "4", "1250.00"]
    combos = list(itertools.product(texts, names, names, names, amounts)) * 2
    frame = pl.DataFrame({
        "text": [c[0] for c in combos], "_store": [c[1] for c in combos],
        "_source": [c[2] for c in combos], "_target": [c[3] for c in combos],
        "amount": pl.Series([Decimal(c[4]) for c in combos], dtype=pl.Decimal(38, 4)),
    }, schema_overrides={c: pl.String for c in ("text", "_store", "_source", "_target")})
    return frame.with_row_index("_line").sample(fraction=1.0, shuffle=True, seed=23)


def test_kinds_per_shape_are_the_rules_run_on_every_row():
    rows = _rows()
    got = payoneer_kinds.kinds(rows)
    every = payoneer_kinds.classify(rows)
    every = every.with_columns(counterparty=payoneer_kinds.counterparty(every))
    columns = ["_rule", "kind", "category", "counterparty"]
    assert got.columns == [*rows.columns, *columns]
    assert got.select(rows.columns).equals(rows)
    assert got.select(columns).equals(every.select(columns))
    # the shapes cover what the rules tell apart
    assert got["kind"].n_unique() >= 5 and got["counterparty"].null_count() > 0
    assert got["counterparty"].n_unique() > 3
