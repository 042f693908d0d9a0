"""A report with workers counts the ledger once (issue 23): the payouts' history (the ledger's
first day to the period's end) is counted, and the report's own rows are the history's rows in
the period whenever reconcile matched the transfers near the period the same way over both
spans (ledger.counting.pipeline.with_history), else the period is counted again. Either way
the rows are exactly those counting the period alone gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.test_payouts_counted import demo_ledger_with_worker


@pytest.fixture(scope="module")
def with_worker(tmp_path_factory) -> Path:
    return demo_ledger_with_worker(tmp_path_factory.mktemp("demo-worker-once"))


def _counting_calls(monkeypatch) -> list[tuple[dt.date, dt.date] | None]:
    """Every count of a ledger's rows (pipeline.count_matched) from here on, by window."""
    from ledger.counting import pipeline

    calls: list[tuple[dt.date, dt.date] | None] = []
    real = pipeline.count_matched

    def spy(rows, schedule, matched, arrived, window=None):
        calls.append(window)
        return real(rows, schedule, matched, arrived, window)

    monkeypatch.setattr(pipeline, "count_matched", spy)
    return calls


@pytest.mark.parametrize("period", [{"month": "2024-06"}, {"year": 2024},
                                    {"start": "2024-05-10", "end": "2024-07-20"}])
def test_a_report_with_workers_counts_the_ledger_once(with_worker, monkeypatch, period):
    """Before: the period for the report, then the history again for the payouts (two
    counts, each with the fee rules over its span)."""
    from ledger.reports import report
    from ledger.store.directory import Ledger

    calls = _counting_calls(monkeypatch)
    built = report.build(Ledger(with_worker), **period)
    assert len(calls) == 1, calls
    assert calls[0][0] == dt.date(2024, 4, 2)  # the history: from the demo's first day
    assert built["payouts_owed_unpaid"] is not None and built["value_chains"]


def _windows() -> list[tuple[dt.date, dt.date]]:
    months = [(dt.date(2024, m, 1), dt.date(2024 + m // 12, m % 12 + 1, 1)
               - dt.timedelta(days=1)) for m in range(4, 13)]
    return [*months, (dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
            (dt.date(2024, 5, 10), dt.date(2024, 7, 20)), (dt.date(2024, 3, 1),
                                                            dt.date(2024, 3, 31))]


@pytest.mark.parametrize("shortcut", [True, False])
def test_the_period_cut_from_the_history_is_the_period_counted(with_worker, monkeypatch,
                                                               shortcut):
    """The fast path (the history's rows in the window) and the slow one (the window counted
    with its own reconcile, what the report did before) give the same rows in the same
    order, and the history is what ledger.payouts counts itself; with the shortcut refused
    (`same_matches` False: a withdrawal near the window paired differently) the window is
    counted again, exactly."""
    from ledger import payouts
    from ledger.counting import pipeline
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

    ledger = Ledger(with_worker)
    rows = ledger.rows()
    chain = FxChain.for_ledger(rows, ledger.rates_path)
    if not shortcut:
        monkeypatch.setattr(pipeline, "same_matches", lambda *_: False)
    for window in _windows():
        slow = pipeline.for_ledger(ledger, rows, window, chain=chain)
        calls = _counting_calls(monkeypatch)
        found, past = pipeline.with_history(ledger, rows, window, chain=chain)
        if window[1] < rows["date"].min():  # no history: the window alone
            assert len(calls) == 1 and past is not None and past.is_empty()
        else:
            assert len(calls) == (1 if shortcut else 2), (window, calls)
            assert past is not None
            assert past.equals(payouts.history(ledger, rows, window[1], chain, slow.journeys))
        assert found.rows.equals(slow.rows), window
        assert found.rows.height == slow.rows.height
        monkeypatch.undo()
        if not shortcut:
            monkeypatch.setattr(pipeline, "same_matches", lambda *_: False)


@pytest.mark.parametrize("end", [dt.date(2024, 5, 31), dt.date(2024, 6, 30),
                                 dt.date(2024, 12, 31), dt.date(2025, 3, 31)])
def test_the_history_matches_as_reconcile_does(with_worker, end):
    """counting.matches (reconcile's matcher over the span, without the chains) gives the
    pairs, arrivals and leg dates reconcile's whole result gives, and the history counted with
    them is the history counted with reconcile's result."""
    import polars as pl

    from ledger import reconcile
    from ledger.counting import pipeline
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

    ledger = Ledger(with_worker)
    rows = ledger.rows()
    chain = FxChain.for_ledger(rows, ledger.rates_path)
    span = (rows["date"].min(), end)
    whole = pipeline.Matches.of(reconcile.for_ledger(ledger, span, rows=rows, chain=chain,
                                                     itemised=False))
    light = pipeline.matches(ledger, rows, span, chain)
    assert set(light.pairs) == set(whole.pairs) and light.pairs
    assert light.dates == whole.dates and light.end == whole.end == end
    assert light.arrived.equals(whole.arrived) and light.arrived.schema == pl.Schema(
        {"id": pl.String, "_other": pl.Decimal(38, 4), "_other_cur": pl.String})
    assert light.arrived.height > 0  # the demo's withdrawals that arrived as PKR
    counted = pipeline.history(ledger, rows, span, chain=chain)
    assert counted.equals(pipeline.for_ledger(ledger, rows, span, chain=chain).rows)


def _result(end: dt.date, *pairs: tuple[str, dt.date, str, dt.date]):
    """Matches of `pairs` (out id, out date, in id, in date) over a span ending on `end`."""
    from ledger.counting.pipeline import Matches

    dates = {o: od for o, od, _, _ in pairs} | {i: idate for _, _, i, idate in pairs}
    return Matches(end, None, None, [(o, i) for o, _, i, _ in pairs], dates)  # type: ignore[arg-type]


def test_same_matches_looks_only_near_the_window():
    """Pairs with a leg within MATCH_DAYS (7) of the window must agree; pairs far before it
    (what only the longer span's reconcile saw) may differ; a pair whose dates are unknown
    counts as near; results ending on different days never agree."""
    from ledger.counting.pipeline import same_matches

    d = dt.date
    window = (d(2024, 6, 1), d(2024, 6, 30))
    end = d(2024, 6, 30)
    near = ("o1", d(2024, 5, 28), "i1", d(2024, 5, 30))  # 2 days before the window
    far = ("o2", d(2024, 3, 1), "i2", d(2024, 3, 3))
    inside = ("o3", d(2024, 6, 10), "i3", d(2024, 6, 12))
    late = ("o4", d(2024, 7, 6), "i4", d(2024, 7, 8))  # 6 days after
    assert same_matches(_result(end, near, inside, late), _result(end, far, near, inside, late),
                        window)
    assert not same_matches(_result(end, inside, late), _result(end, near, inside, late), window)
    assert not same_matches(_result(end, inside), _result(end, inside, late), window)
    assert not same_matches(_result(end, inside), _result(d(2024, 7, 31), inside), window)
    unknown = _result(end, inside)
    unknown.pairs.append(("o9", "i9"))
    assert not same_matches(unknown, _result(end, inside), window)
    assert same_matches(_result(end, far), _result(end), window)


def test_a_history_that_cannot_be_counted_is_left_to_the_payouts(with_worker, monkeypatch):
    """When counting the history fails (a row before the period no fee rule can derive),
    with_history gives the period counted alone and no history: ledger.payouts counts the
    history itself and raises where it always did, after the period's own errors and the
    payouts' checks."""
    from ledger.core.errors import DataError
    from ledger.counting import pipeline
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

    ledger = Ledger(with_worker)
    rows = ledger.rows()
    chain = FxChain.for_ledger(rows, ledger.rates_path)
    window = (dt.date(2024, 6, 1), dt.date(2024, 6, 30))
    slow = pipeline.for_ledger(ledger, rows, window, chain=chain)
    real = pipeline.count_matched
    first = rows["date"].min()

    def failing(rows, schedule, matched, arrived, window=None):
        if window is not None and window[0] == first:
            raise DataError("no fee rule for this old row")
        return real(rows, schedule, matched, arrived, window)

    monkeypatch.setattr(pipeline, "count_matched", failing)
    found, past = pipeline.with_history(ledger, rows, window, chain=chain)
    assert past is None and found.rows.equals(slow.rows)
