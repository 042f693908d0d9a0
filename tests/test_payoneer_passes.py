"""Payoneer's passes skipped or split (issue 23) give what the full ones gave: the running
balances checked a currency at a time rather than grouped, and the links found without the
Reference ID queries when no fee names one."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import polars as pl

from importers import payoneer, payoneer_links, registry
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


def _described_before(df: pl.DataFrame) -> pl.Series:
    """The description as `_described` made it before the transfer tag was made in parts."""
    word = pl.when(pl.col("amount") < 0).then(pl.lit(" [delivered ")).otherwise(pl.lit(" [sent "))
    parts = [pl.col("text"), pl.lit(" - ") + pl.col("_extra")]
    if df["text"].null_count():
        parts = [pl.concat_str([pl.col("text"), pl.col("_extra")], separator=" - ",
                               ignore_nulls=True)]
    parts.append(pl.concat_str([word, pl.col("_transfer_text").str.replace_all(",", "",
                                                                             literal=True),
                                pl.lit(" "), pl.col("_transfer_currency"), pl.lit("]")]))
    if df["reference_id"].null_count() < df.height:
        parts.append(pl.when(pl.col("_reference_used")).then(None)
                     .otherwise(pl.lit(" [reference ") + pl.col("reference_id") + pl.lit("]")))
    return df.select(pl.concat_str(parts, ignore_nulls=True).alias("description")).to_series()


def test_transfer_tag_in_parts_is_the_tag_made_whole():
    """Every combination of text, extra, transfer amount (grouped or not), its currency (or
    none), sign and reference; and the subsets that take each of `_transfer_tag`'s ways."""
    combos = list(itertools.product(
        ["Payment", "", None], [None, "x"], [None, "1,250.00", "12.00"], ["PKR", None],
        ["-5", "0", "7"], [None, "R1"], [True, False]))
    rows = pl.DataFrame({
        "_line": range(2, 2 + len(combos)), "text": [c[0] for c in combos],
        "_extra": [c[1] for c in combos], "_transfer_text": [c[2] for c in combos],
        "_transfer_currency": [c[3] for c in combos],
        "amount": pl.Series([Decimal(c[4]) for c in combos], dtype=pl.Decimal(38, 4)),
        "reference_id": [c[5] for c in combos], "_reference_used": [c[6] for c in combos],
        "_transfer": pl.Series([Decimal(1)] * len(combos), dtype=pl.Decimal(38, 4)),
        "_rule": pl.Series([None] * len(combos), dtype=pl.Int8),
    }, schema_overrides={c: pl.String for c in ("text", "_extra", "_transfer_text",
                                                 "_transfer_currency", "reference_id")})
    text, currency = pl.col("_transfer_text"), pl.col("_transfer_currency")
    subsets = [pl.lit(True), ~text.str.contains(",").fill_null(False),
               ~(text.is_not_null() & currency.is_null()), pl.col("text").is_not_null(),
               ~text.str.contains(",").fill_null(False) & currency.is_not_null()
               & pl.col("text").is_not_null() & pl.col("reference_id").is_null()]
    for subset in subsets:
        part = rows.filter(subset)
        expected = _described_before(part)
        assert payoneer._described(part.clone())["description"].equals(expected)
        assert expected.str.contains("[delivered 12.00 PKR]", literal=True).any()


def test_rows_alone_at_their_times_are_those_the_ranking_picks():
    """`_by_time` without the ranking where no two rows share a time: what the ranking picks,
    on rows alone at their times (a null time among them) and on rows that share them."""
    def near(times, fx, amounts):
        return pl.DataFrame({
            "_ts": pl.Series(times, dtype=pl.UInt64), "ref": [f"r{i}" for i in range(len(times))],
            "_fx": fx, "amount": pl.Series([Decimal(a) for a in amounts],
                                           dtype=pl.Decimal(38, 4))})

    def both(frame):
        return [payoneer_links._by_time(frame, [], alone=alone).sort("_ts", "_by_time")
                for alone in (True, False)]

    shortcut, ranked = both(near([1, 2, None, 4], [False, True, False, True],
                                 ["5", "-5", "1", "2"]))
    assert shortcut.equals(ranked) and shortcut.height == 4
    shortcut, ranked = both(near([1, 1, 2, 2, 2], [True, False, True, True, False],
                                 ["5", "-5", "1", "-2", "3"]))
    assert shortcut.equals(ranked) and ranked["_by_time"].to_list() == ["r1", "r4"]


def test_conversion_legs_pair_only_in_twos_of_opposite_signs_and_two_currencies():
    """The fx legs' links (a pair's refs as two columns, not lists): each group of legs at a
    time is a pair only when it has two legs, of opposite signs, in two currencies."""
    fx = _rule_of("fx")
    groups = [  # (time, ref, amount, currency)
        (1, "a1", "-10", "USD"), (1, "a2", "9", "EUR"),  # a pair
        (2, "b1", "-10", "USD"),  # alone
        (3, "c1", "-10", "USD"), (3, "c2", "-9", "EUR"),  # same sign
        (4, "d1", "-10", "USD"), (4, "d2", "10", "USD"),  # one currency
        (5, "e1", "-10", "USD"), (5, "e2", "9", "EUR"), (5, "e3", "1", "GBP"),  # three
        (6, "f1", "9", "EUR"), (6, "f1", "-10", "USD"),  # one ref on both legs
    ]
    df = pl.DataFrame({
        "_line": range(2, 2 + len(groups)), "_rule": pl.Series([fx] * len(groups), dtype=pl.Int8),
        "_ts": pl.Series([g[0] for g in groups], dtype=pl.UInt64),
        "ref": [g[1] for g in groups], "reference_id": pl.Series([None] * len(groups),
                                                                  dtype=pl.String),
        "amount": pl.Series([Decimal(g[2]) for g in groups], dtype=pl.Decimal(38, 4)),
        "currency": [g[3] for g in groups]})
    links = payoneer._link(df)["related_ref"].to_list()
    assert links == ["a2", "a1", None, None, None, None, None, None, None, None, "f1", "f1"]


def _rule_of(kind: str) -> int:
    return payoneer.RULE_KINDS.index(kind)
