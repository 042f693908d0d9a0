"""What makes a large import cheaper in CPU must not change what it stores (issue 23): each
shortcut gives what the longer way gives."""

from __future__ import annotations

import polars as pl

from importers import paypal, upwork
from ledger.core import schema


def _rows(refs: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame({
        "_line": list(range(2, 2 + len(refs))), "ref": refs,
        "description": [f"Payment {i}" for i in range(len(refs))],
        "_leg": ["gross", "fee"] * (len(refs) // 2) + ["gross"] * (len(refs) % 2),
        "source": "paypal", "account": "paypal",
    }, schema_overrides={"ref": pl.String})


def test_paypal_keys_without_the_fallback_are_the_keys_with_it():
    for refs in (["T1", "T1", "T2"], ["T1", None, "T2"], [None, None]):
        rows = _rows(refs)
        short = rows.select(paypal._key(rows).alias("k"))["k"]
        assert short.to_list() == rows.select(paypal._key().alias("k"))["k"].to_list()
        assert short.null_count() == 0
        assert schema.with_ids(rows, paypal._key(rows))["id"].equals(
            schema.with_ids(rows, paypal._key())["id"])


def test_upwork_hours_looked_up_per_invoice_text_are_each_rows_own():
    texts = ["Invoice - 14:20 hrs @ $20.00/hr", "Invoice - 2.5 hrs",
             "Invoice - 14:20 hrs @ $20.00/hr", "no hours here", "Service Fee - 3:30 hrs",
             "Invoice - 1:05 hrs and 9 hrs", ""]
    categories = ["hourly", "hourly", "hourly", "hourly", None, "hourly", "hourly"]
    df = pl.DataFrame({"type": ["hourly"] * 4 + ["service fee", "hourly", "hourly"],
                       "description": texts})
    out, _ = upwork._classified(df)
    direct = pl.DataFrame({"d": texts, "c": categories}).select(
        pl.when(pl.col("c") == "hourly").then(upwork._hours(pl.col("d"))))["d"]
    assert out["hours"].to_list() == direct.to_list()
    assert out["hours"].to_list()[:3] == [14 + 20 / 60, 2.5, 14 + 20 / 60]
    assert "_hours" not in out.columns


def test_paypal_counterparty_looked_up_per_payer_is_each_rows_own():
    from decimal import Decimal

    from importers.base import nonblank

    names = ["Acme", None, " ", None, "Acme", None]
    froms = ["a@x.com", "b@y.com", "c@z.com", None, "a@x.com", " "]
    tos = ["me@m.com", "d@w.com", None, "e@v.com", "me@m.com", "f@u.com"]
    gross = ["10", "-5", "7", "-3", "-1", "2"]
    df = pl.DataFrame({
        "_line": range(2, 8), "date": [None] * 6, "currency": ["USD"] * 6,
        "gross": [Decimal(g) for g in gross], "fee": [Decimal(0)] * 6,
        "_name": names, "_from": froms, "_to": tos, "type": ["Payment"] * 6,
        "_subject": [None] * 6, "_id": [f"T{i}" for i in range(6)], "_ref": [None] * 6,
        "kind": ["payment"] * 6, "category": ["payment"] * 6,
    }, schema_overrides={"date": pl.Date, "_name": pl.String, "_from": pl.String,
                         "_to": pl.String, "_subject": pl.String, "_ref": pl.String})
    direct = df.select(pl.coalesce(
        nonblank(pl.col("_name")),
        nonblank(pl.when(pl.col("gross") >= 0).then(pl.col("_from")).otherwise(pl.col("_to"))),
    ))["_name"].to_list()
    assert paypal._legs(df)["counterparty"].to_list() == direct
    assert direct == ["Acme", "d@w.com", "c@z.com", "e@v.com", "Acme", None]
