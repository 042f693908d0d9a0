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


def test_benchmarks_picked_from_the_plan_are_those_of_the_table_read_whole() -> None:
    """report.benchmarks_for picks from `table_plan` (the country's rows read in the same
    collect): the same rows as the table read whole and picked, with and without the user's
    own figures; the table is the bundled file as it is."""
    from ledger.reports import benchmarks

    whole = pl.read_csv(benchmarks.bundled_path(), infer_schema=False, glob=False)
    assert benchmarks.table().equals(whole)
    mine = [{"name": "living_wage_lahore", "amount": "60000", "currency": "PKR",
             "period": "month", "source": "my budget"},
            {"name": "rent", "amount": "900", "currency": "USD", "period": "month",
             "country": "ph", "year": 2023}]
    countries = sorted(set(whole["country_iso2"].to_list()))
    assert len(countries) > 3
    for user in ([], mine):
        for country in [*countries, "PH", "XX", "ZZ"]:
            for year in (1990, 2019, 2024, 2031):
                eager = benchmarks.pick(benchmarks.table(user, country), country, year)
                planned = benchmarks.pick(benchmarks.table_plan(user, country), country, year)
                assert planned == eager, (country, year, bool(user))
