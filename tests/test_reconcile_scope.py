"""ledger.reconcile.same_scope reads the date column alone: it must say what filtering the
rows between the two first days (less the scope margin) says, on every edge."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest


@pytest.mark.parametrize("seed", range(30))
def test_same_scope_is_the_filter(seed: int) -> None:
    from ledger import reconcile

    rnd = random.Random(seed)
    settings = reconcile.settings({})
    margin = reconcile.scope_margin(settings)
    day = dt.date(2024, 1, 1)
    dates = [day + dt.timedelta(days=rnd.randint(0, 400)) for _ in range(rnd.randint(0, 12))]
    rows = pl.DataFrame({"date": dates, "id": [str(i) for i in range(len(dates))]},
                        schema={"date": pl.Date, "id": pl.String})
    for _ in range(20):
        start = day + dt.timedelta(days=rnd.randint(0, 420))
        # edges: a first day whose margin lands exactly on a row's date, or just past it
        other = (rnd.choice(dates) + margin + dt.timedelta(days=rnd.choice([0, 1]))
                 if dates and rnd.random() < 0.5 else day + dt.timedelta(days=rnd.randint(0, 420)))
        low, high = min(start, other) - margin, max(start, other) - margin
        want = rows.filter((pl.col("date") >= low) & (pl.col("date") < high)).is_empty()
        assert reconcile.same_scope(rows, start, other, settings) == want
