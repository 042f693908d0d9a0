"""apply_rules sorts once: each fee rule appends what it derives and one stable sort by date
comes at the end (issue 23: a sort of every row after each rule cost ~4 ms each on five
years' rows). The rows must be those, in the order, that a sort after each rule gave."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from tests.test_fee_plan import _one_by_one
from tests.test_no_numpy import _five


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _five(tmp_path_factory.mktemp("five"), fiverr=True)


@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("reconciled", [False, True])
def test_one_sort_gives_the_rows_a_sort_after_each_rule_gave(five: Path, shuffled: bool,
                                                              reconciled: bool) -> None:
    """Same rows, same order, with the ledger's rows as stored and shuffled (ties of a day
    then come in another order), with reconcile's pairs and with the rules' own matcher."""
    from ledger.store.directory import Ledger
    from rules.fees import Schedule, apply_rules
    from rules.transfers import Settings, match

    ledger = Ledger(five)
    rows = ledger.rows()
    if shuffled:
        rows = rows.sample(fraction=1.0, shuffle=True, seed=7)
    schedule = Schedule.for_ledger(ledger)
    matched = match(rows, Settings()).hops.select("out_id", "in_id") if reconciled else None
    once = apply_rules(rows, schedule, matched=matched)
    each = _one_by_one(rows, schedule, matched=matched)  # the rules as they ran before
    origins = set(once.get_column("origin").unique().to_list())
    assert {o.split(".")[0] for o in origins if o.startswith("rule:")} >= {
        "rule:fiverr", "rule:transfers"}, origins  # derived grosses and conversions
    assert once.height > rows.height
    assert_frame_equal(once, each)
