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


def test_rates_for_gives_one_for_the_target_a_crossed_rate_and_leaves_out_the_unknown():
    day = dt.date(2024, 6, 3)
    table = pl.DataFrame(
        {"date": [day, day], "from": ["PKR", "USD"], "to": ["USD", "EUR"],
         "rate": [Decimal("0.0036"), Decimal("0.92")], "provider": ["user", "user"],
         "detail": ["rates.csv:2", "rates.csv:3"]},
        schema={"date": pl.Date, "from": pl.String, "to": pl.String,
                "rate": pl.Decimal(38, 12), "provider": pl.String, "detail": pl.String})
    rates = FxChain([table]).rates_for({(day, "EUR"), (day, "PKR"), (day, "XOF")}, "EUR")
    # PKR->EUR crosses USD: 0.0036 × 0.92; XOF has no rate and is left out
    assert rates == {(day, "EUR"): Decimal(1), (day, "PKR"): Decimal("0.003312")}
