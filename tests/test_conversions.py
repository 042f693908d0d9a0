"""One conversion-leg pairing (rules/conversions.conversion_pairs) and its three callers: implied
rates (rules.fx), lone legs (rules.fees) and journal transactions (ledger.journal); and the one
transfer matcher (rules/transfers.py) under the intermediary-deduction rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from ledger.core import schema
from ledger.reports import journal
from rules.conversions import conversion_pairs
from rules.fee_transfers import _lone_legs
from rules.fees import load_schedule, match_intermediary
from rules.fx import implied_rates

D = Decimal
DAY = dt.date(2024, 6, 3)


def legs() -> pl.DataFrame:
    """Six cases, by hand: A a pair sharing a related_ref, B a pair pointing at each other's
    ref, C three legs sharing one (no pair), D one currency (no pair), E two dates (no pair),
    F two accounts (no pair)."""
    items = [  # id, account, day offset, amount, currency, ref, related_ref
        ("A1", "paypal", 0, "-100", "USD", None, "CA"),
        ("A2", "paypal", 0, "92", "EUR", None, "CA"),
        ("B1", "payoneer", 0, "-1000", "USD", "P1", "P2"),
        ("B2", "payoneer", 0, "925", "EUR", "P2", "P1"),
        ("C1", "paypal", 0, "-10", "USD", None, "CC"), ("C2", "paypal", 0, "9", "EUR", None, "CC"),
        ("C3", "paypal", 0, "5", "GBP", None, "CC"),
        ("D1", "paypal", 0, "-10", "USD", None, "CD"), ("D2", "paypal", 0, "10", "USD", None, "CD"),
        ("E1", "paypal", 0, "-10", "USD", None, "CE"), ("E2", "paypal", 1, "9", "EUR", None, "CE"),
        ("F1", "paypal", 0, "-10", "USD", None, "CF"), ("F2", "wise", 0, "9", "EUR", None, "CF"),
    ]
    return pl.DataFrame({
        "id": [i[0] for i in items], "kind": ["fx"] * len(items),
        "account": [i[1] for i in items], "source": [i[1] for i in items],
        "date": [DAY + dt.timedelta(days=i[2]) for i in items],
        "amount": [D(i[3]) for i in items], "currency": [i[4] for i in items],
        "ref": [i[5] for i in items], "related_ref": [i[6] for i in items],
        "description": ["Currency conversion"] * len(items), "line": list(range(2, 15)),
        "counter_amount": [None] * len(items), "counter_currency": [None] * len(items),
        "fee_included": [None] * len(items)},
        schema_overrides={"amount": pl.Decimal(38, 4), "counter_amount": pl.Decimal(38, 4),
                          "counter_currency": pl.String, "fee_included": pl.Decimal(38, 4)})


def test_conversion_pairs_pair_only_one_out_and_one_in_of_one_account_day_and_link():
    found = conversion_pairs(legs())
    assert sorted(found.iter_rows()) == [("A1", "A2"), ("B1", "B2")]


def test_the_three_callers_pair_by_the_same_rule():
    rows = legs()
    records = list(rows.iter_rows(named=True))
    pairs = [(records[a]["id"], records[b]["id"]) for a, b in journal.conversion_pairs(records)]
    assert pairs == [("A1", "A2"), ("B1", "B2")]
    assert sorted(_lone_legs(rows)["id"].to_list()) == ["C1", "C2", "C3", "D1", "D2", "E1",
                                                         "E2", "F1", "F2"]
    rates = {(r["from"], r["to"], r["rate"]) for r in implied_rates(rows).iter_rows(named=True)}
    assert rates == {("USD", "EUR", D("0.92")), ("USD", "EUR", D("0.925"))}  # 92/100, 925/1000


def transfers(*credits: tuple[int, str]) -> pl.DataFrame:
    """A 500 USD Upwork withdrawal on 1 May 2024 and Payoneer credits (days later, amount)."""
    n = len(credits)
    df = pl.DataFrame({
        "date": [dt.date(2024, 5, 1)] + [dt.date(2024, 5, 1 + d) for d, _ in credits],
        "source": ["upwork"] + ["payoneer"] * n, "account": ["upwork"] + ["payoneer"] * n,
        "kind": ["transfer"] * (n + 1), "category": ["withdrawal"] + ["receipt"] * n,
        "amount": [D("-500")] + [D(a) for _, a in credits], "currency": ["USD"] * (n + 1),
        "counterparty": [None] + ["Upwork Global Inc"] * n,
        "description": ["Withdrawal"] + ["Payment from Upwork Global Inc"] * n,
        "ref": ["W1"] + [f"R{i}" for i in range(n)], "origin": ["source"] * (n + 1),
        "import_id": ["a" * 64] * (n + 1), "line": list(range(2, n + 3))},
        schema_overrides={"amount": pl.Decimal(38, 4)})
    return schema.with_ids(schema.conform(df))


def test_an_intermediary_deduction_is_measured_on_the_matchers_pair_never_guessed():
    bundled = load_schedule()
    one = match_intermediary(transfers((1, "490")), bundled)
    assert one.filter(pl.col("kind") == "bank_fee")["amount"].to_list() == [D("-10")]
    # two look-alike credits: the matcher leaves the withdrawal ambiguous, so nothing is derived
    two = transfers((1, "490"), (2, "490"))
    assert match_intermediary(two, bundled).equals(two)
