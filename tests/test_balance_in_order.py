"""check_running_balance reads rows in file order as they are, in either direction (the
previous row the one before or after), rather than a copy sorted by line: the same answer,
the same first break reported, as the sorted copy gives (`base.lines_rising` forced False),
in any direction, with and without currencies, with breaks anywhere."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import polars as pl
import pytest

from importers import base
from importers.readers import LINE
from ledger.core.errors import DataError


def _rows(seed: int, newest_first: bool, currencies: int, breaks: int) -> pl.DataFrame:
    rng = random.Random(seed)
    n = 60
    chain = []
    balance = {c: Decimal("100.00") for c in range(currencies)}
    for i in range(n):
        currency = rng.randrange(currencies)
        amount = Decimal(rng.randrange(-500, 500)) / 100
        balance[currency] += amount
        chain.append((dt.date(2024, 1, 1) + dt.timedelta(days=i // 3), amount,
                      balance[currency], f"C{currency}"))
    for _ in range(breaks):
        at = rng.randrange(n)
        day, amount, value, currency = chain[at]
        chain[at] = (day, amount, value + Decimal("0.01"), currency)
    if rng.random() < 0.3:  # a row without a balance (pending)
        day, amount, _, currency = chain[n // 2]
        chain[n // 2] = (day, amount, None, currency)
    if newest_first:
        chain.reverse()
    return pl.DataFrame({
        LINE: list(range(2, n + 2)), "date": [r[0] for r in chain],
        "amount": [r[1] for r in chain], "balance": [r[2] for r in chain],
        "currency": [r[3] for r in chain],
    }, schema_overrides={"amount": pl.Decimal(38, 4), "balance": pl.Decimal(38, 4)})


def _answer(df: pl.DataFrame, **options) -> str | None:
    try:
        base.check_running_balance(df, path="f.csv", **options)
    except DataError as exc:
        return f"{exc.line}: {exc}"
    return None


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("newest_first", [True, False])
@pytest.mark.parametrize("given", [None, True, False])
@pytest.mark.parametrize("currencies", [1, 3])
def test_in_order_is_the_sorted_copy(seed, newest_first, given, currencies, monkeypatch):
    df = _rows(seed, newest_first, currencies, breaks=seed % 3)
    options = {"newest_first": given}
    if currencies > 1:
        options["group"] = ["currency"]
    fast = _answer(df, **options)
    monkeypatch.setattr(base, "lines_rising", lambda lines: False)
    assert _answer(df, **options) == fast


def test_some_answers_are_breaks() -> None:
    answers = [_answer(_rows(seed, True, 1, breaks=2)) for seed in range(6)]
    assert any(a is not None for a in answers) and None in [
        _answer(_rows(seed, True, 1, breaks=0)) for seed in range(3)]


@pytest.mark.parametrize(("lines", "rising"), [([2, 3, 5], True), ([3, 2], False),
                                               ([2, 2, 3], False), ([7], True), ([], True)])
def test_lines_rising(lines: list[int], rising: bool) -> None:
    assert base.lines_rising(pl.Series(lines, dtype=pl.Int64)) is rising
