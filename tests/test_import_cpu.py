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
