"""reconcile.match_both: a period's matching and its history's in one run of the matcher (the
report with [[workers]]) give what matching each scope alone gives, for every month of the
demo ledger, and the period's reconcile built on them is the one reconcile builds alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.test_payouts_counted import demo_ledger_with_worker


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return demo_ledger_with_worker(tmp_path_factory.mktemp("demo-both"))


def _alone(rows, span, settings, chain, margin):
    import polars as pl

    from rules.transfers import legs, match

    scope = rows.filter(pl.col("date").is_between(span[0] - margin, span[1] + margin))
    outs, ins = legs(scope, settings)
    return outs, ins, match(scope, settings, chain, None, (outs, ins))


def _same(one, other, key: list[str]) -> bool:
    return one.sort(key).equals(other.sort(key))


def _months() -> list[tuple[dt.date, dt.date]]:
    starts = [dt.date(2024, m, 1) for m in range(5, 13)]
    return [(s, (s.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1))
            for s in starts]


def test_one_run_matches_each_scope_as_alone(demo):
    from ledger import reconcile
    from ledger.store.directory import Ledger
    from rules.fx import FxChain
    from rules.worker_ids import SEP

    ledger = Ledger(demo)
    rows = ledger.rows()
    chain = FxChain.for_ledger(rows, ledger.rates_path)
    settings = reconcile.settings(ledger.settings().tree)
    margin = reconcile.scope_margin(settings)
    first = rows["date"].min()
    tried = 0
    for period in _months():
        both = reconcile.match_both(rows, period, first, settings, chain,
                                    {"links": [], "unlinks": []}, margin)
        if both is None:
            continue
        tried += 1
        for got, span in zip(both, (period, (first, period[1])), strict=True):
            outs, ins, found = _alone(rows, span, settings, chain, margin)
            assert got.outs.equals(outs) and got.ins.equals(ins)
            assert _same(got.found.hops, found.hops, ["out_id", "in_id"]), period
            assert _same(got.found.ambiguous, found.ambiguous, ["out_id"]), period
            assert _same(got.found.unmatched_out, found.unmatched_out, ["out_id"]), period
            assert _same(got.found.unmatched_in, found.unmatched_in, ["in_id"]), period
            assert not got.found.hops["out_id"].str.contains(SEP).any()
            assert not got.found.hops["in_id"].str.contains(SEP).any()
        assert both[0].found.hops.height  # the demo's months have matches to compare
        # the period's reconcile on them is the reconcile of the period alone
        alone = reconcile.reconcile(rows, period, settings, chain, None, period[1])
        shared = reconcile.reconcile(rows, period, settings, chain, None, period[1],
                                     matched=both[0])
        assert reconcile.to_json(shared) == reconcile.to_json(alone)
        assert shared.pairs == alone.pairs
    assert tried >= 3


def test_user_links_are_matched_apart(demo):
    """Links name untagged ids: with any, the two scopes are matched separately (None)."""
    from ledger import reconcile
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

    ledger = Ledger(demo)
    rows = ledger.rows()
    settings = reconcile.settings(ledger.settings().tree)
    chain = FxChain.for_ledger(rows, ledger.rates_path)
    period = (dt.date(2024, 7, 1), dt.date(2024, 7, 31))
    links = {"links": [], "unlinks": [["a", "b"]]}
    assert reconcile.match_both(rows, period, rows["date"].min(), settings, chain, links,
                                reconcile.scope_margin(settings)) is None


def test_pairs_come_in_hop_order(demo):
    """Result.pairs in hop order (withdrawal date and id, then credit date and id), so a
    period matched with its history (another order out of the matcher) gives the same."""
    from ledger import reconcile
    from ledger.store.directory import Ledger

    ledger = Ledger(demo)
    result = reconcile.for_ledger(ledger, (dt.date(2024, 4, 1), dt.date(2024, 12, 31)))
    assert result.pairs
    key = {h.out["out_id"]: (h.out["out_date"], h.out["out_id"]) for h in result.hops}
    dates = {i["in_id"]: (i["in_date"], i["in_id"]) for h in result.hops for i in h.ins}
    assert result.pairs == sorted(result.pairs, key=lambda p: (*key[p[0]], *dates[p[1]]))
