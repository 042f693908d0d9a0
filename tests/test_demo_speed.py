"""The demo report's shortcuts (issue 23, h36demo): each gives what the longer way gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from tests.test_cli import import_demo


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo exports imported once through the CLI (treat as read-only)."""
    return import_demo(tmp_path_factory.mktemp("demo"))


def test_a_lookup_with_every_rate_direct_answers_as_the_crossing_plan_would(
        demo_ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FxChain._resolve skips the plan that joins the crossed legs when every need has a
    direct rate: the answers (rows, order, dtypes) are the plan's, for needs all direct, some
    crossed, some unknown, and none."""
    from ledger.store.directory import Ledger
    from rules import fx

    ledger = Ledger(demo_ledger)
    rows = ledger.rows()
    original = fx._direct_only
    days = [dt.date(2024, 4, 26), dt.date(2024, 6, 3), dt.date(2024, 6, 30),
            dt.date(2023, 12, 31), dt.date(2024, 5, 17)]
    cases = [(["USD"] * 5, "PKR"), (["USD", "EUR", "USD", "EUR", "USD"], "PKR"),
             (["EUR", "GBP", "USD", "XOF", "PKR"], "USD"), (["USD"] * 5, "EUR"),
             ([], "PKR")]
    for currencies, to in cases:
        needs = pl.DataFrame({"date": days[:len(currencies)], "currency": currencies},
                             schema={"date": pl.Date, "currency": pl.String})
        answers = []
        for direct in (fx._direct_only, lambda wanted, found: None):
            monkeypatch.setattr(fx, "_direct_only", direct)
            chain = fx.FxChain.for_ledger(rows, ledger.rates_path)
            answers.append(chain.lookup(needs, to))
        fast, slow = answers
        assert fast.schema == slow.schema, (currencies, to)
        assert fast.equals(slow), (currencies, to)
    monkeypatch.undo()
    taken: list[pl.DataFrame | None] = []
    monkeypatch.setattr(fx, "_direct_only", lambda wanted, found: taken.append(
        original(wanted, found)) or taken[-1])
    fx.FxChain.for_ledger(rows, ledger.rates_path).lookup(pl.DataFrame(
        {"date": days, "currency": ["USD"] * 5}), "PKR")
    assert taken and taken[0] is not None  # the demo's USD->PKR needs take the shortcut

