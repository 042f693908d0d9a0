"""Crossing through a pivot: a currency ECB quotes against EUR reaches USD via EUR."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from ledger.core import schema
from rules.fx import FxChain


def test_inr_to_usd_crosses_through_eur_although_usd_is_itself_a_pivot(tmp_path: Path):
    chain = FxChain.for_ledger(schema.empty(), tmp_path / "rates.csv")
    needs = pl.DataFrame({"date": [dt.date(2024, 6, 3)], "currency": ["INR"]})
    found = chain.lookup(needs, "USD").row(0, named=True)
    eur_usd = chain.lookup(pl.DataFrame({"date": [dt.date(2024, 6, 3)], "currency": ["EUR"]}),
                           "USD").row(0, named=True)["rate"]
    eur_inr = chain.lookup(pl.DataFrame({"date": [dt.date(2024, 6, 3)], "currency": ["EUR"]}),
                           "INR").row(0, named=True)["rate"]
    assert found["provider"] == "ecb×ecb"
    assert abs(Decimal(found["rate"]) - Decimal(eur_usd) / Decimal(eur_inr)) < Decimal("1e-9")
