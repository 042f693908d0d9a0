"""Payoneer's passes skipped or split (issue 23) give what the full ones gave: the running
balances checked a currency at a time rather than grouped, and the links found without the
Reference ID queries when no fee names one."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import polars as pl

from importers import payoneer, registry
from importers.base import ImportOptions
from tests.conftest import DATA


def _frame(amounts, balances, currencies):
    return pl.DataFrame({
        "_line": range(2, 2 + len(amounts)),
        "date": [dt.date(2024, 5, 1)] * len(amounts), "currency": currencies,
        "amount": pl.Series([Decimal(a) for a in amounts], dtype=pl.Decimal(38, 4)),
        "balance": pl.Series([Decimal(b) for b in balances], dtype=pl.Decimal(38, 4))},
        schema_overrides={"currency": pl.String})


def test_balances_a_currency_at_a_time_are_the_grouped_check(monkeypatch):
    """Every way of giving four rows two currencies (a null one too) and a balance that does
    or does not follow: the same answer a currency at a time as grouped by currency."""
    amounts, follows, broken = ["10", "5", "-3", "1"], ["10", "5", "7", "6"], ["10", "5", "8", "6"]
    answers = []
    for currencies in itertools.product(["USD", "EUR", None], repeat=4):
        for balances in (follows, broken, ["10", "15", "12", "13"]):
            df = _frame(amounts, balances, list(currencies))
            each = payoneer._balances_follow(df)
            monkeypatch.setattr(payoneer, "FEW_CURRENCIES", 0)
            grouped = payoneer._balances_follow(df)
            monkeypatch.undo()
            assert each == grouped, (currencies, balances)
            answers.append(each)
    assert any(answers) and not all(answers)


def test_links_without_reference_ids_are_those_found_with_their_queries(monkeypatch):
    """Both golden exports with their Reference IDs taken out: the links found when the
    Reference ID queries are skipped are those found when they run (and find nothing)."""
    raw = registry.read(DATA / "payoneer" / "transactions-17col.csv")
    table = payoneer.read_table(raw, 0)
    df = payoneer._fields(table.df, table, raw.path,
                          payoneer._date_formats(table.df, ImportOptions()))
    df = df.filter(pl.col("status") == "Completed").with_columns(
        amount=pl.col("credit").fill_null(0) - pl.col("debit").fill_null(0),
        reference_id=pl.lit(None, dtype=pl.String))
    df = payoneer.kinds(df)
    skipped = payoneer._link(df.clone())
    assert skipped["related_ref"].drop_nulls().len() > 0
    clear = pl.LazyFrame.clear
    monkeypatch.setattr(pl.LazyFrame, "clear", lambda self, n=0: self)  # the queries run
    assert payoneer._link(df.clone()).equals(skipped)
    monkeypatch.setattr(pl.LazyFrame, "clear", clear)
