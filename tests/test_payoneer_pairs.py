"""`_link` of one file reads a fee's row and a conversion's other leg from their neighbours in
the file where it can (`_by_time_at`, `_adjacent_pairs`); those fast paths must give the links
the general way gives (the stacked files' grouping and joins, `by=`), on rows written next to
each other and apart, with repeated, missing and null timestamps, refs, signs and currencies."""

from __future__ import annotations

import random
from decimal import Decimal

import polars as pl
import pytest

from importers import payoneer, payoneer_links


def _frame(seed: int, adjacent: bool, string_times: bool = False) -> pl.DataFrame:
    """Random fee, fx and other rows; `adjacent`: each timestamp's rows written together."""
    rng = random.Random(seed)
    rules = [payoneer.RULE_KINDS.index(k) for k in ("payment_fee", "fx", "transfer")]
    rows = []
    for time in range(rng.randint(0, 40)):
        stamp = None if rng.random() < 0.05 else time
        for _ in range(rng.choice([1, 1, 2, 2, 2, 3])):
            rows.append((stamp, rng.choice([*rules, None, 3]),
                         None if rng.random() < 0.05 else f"r{rng.randint(0, 60)}",
                         rng.choice(["-10", "9", "0", "5"]),
                         rng.choice(["USD", "EUR", None])))
    if not adjacent:
        rng.shuffle(rows)
    ts = [r[0] for r in rows]
    return pl.DataFrame({
        "_line": pl.Series(range(2, 2 + len(rows)), dtype=pl.Int64),
        "_rule": pl.Series([r[1] for r in rows], dtype=pl.Int8),
        "_ts": pl.Series([None if t is None else f"d {t}" for t in ts], dtype=pl.String)
        if string_times else pl.Series(ts, dtype=pl.UInt64),
        "ref": pl.Series([r[2] for r in rows], dtype=pl.String),
        "reference_id": pl.Series([None] * len(rows), dtype=pl.String),
        "amount": pl.Series([Decimal(r[3]) for r in rows], dtype=pl.Decimal(38, 4)),
        "currency": pl.Series([r[4] for r in rows], dtype=pl.String)})


@pytest.mark.parametrize("adjacent", [True, False])
@pytest.mark.parametrize("string_times", [False, True])
def test_links_read_from_neighbours_are_the_grouped_and_joined_ones(adjacent, string_times):
    used = {"pairs": 0, "times": 0}
    pairs, times = payoneer_links._adjacent_pairs, payoneer_links._by_time_at

    def counted_pairs(*args):
        found = pairs(*args)
        used["pairs"] += found is not None
        return found

    def counted_times(*args):
        used["times"] += 1
        return times(*args)

    payoneer_links._adjacent_pairs, payoneer_links._by_time_at = counted_pairs, counted_times
    try:
        for seed in range(60):
            df = _frame(seed, adjacent, string_times)
            alone = payoneer._link(df.clone())
            joined = payoneer._link(df.with_columns(_file=pl.lit(0, dtype=pl.Int32)),
                                    by=["_file"]).drop("_file")
            assert alone.equals(joined), seed
    finally:
        payoneer_links._adjacent_pairs, payoneer_links._by_time_at = pairs, times
    assert used["times"] > 30 and (used["pairs"] > 30 if adjacent else True)


def test_fee_rows_away_from_their_fees_are_found():
    """A fee whose row is not next to it, or next to a fee: found as the join finds it."""
    fee, other = (payoneer.RULE_KINDS.index(k) for k in ("payment_fee", "transfer"))
    df = pl.DataFrame({
        "_line": pl.Series(range(2, 8), dtype=pl.Int64),
        "_rule": pl.Series([other, fee, other, fee, fee, other], dtype=pl.Int8),
        "_ts": pl.Series([1, 2, 2, 1, 3, 3], dtype=pl.UInt64),
        "ref": ["a", "f1", "b", "f2", "f3", "c"],
        "reference_id": pl.Series([None] * 6, dtype=pl.String),
        "amount": pl.Series([Decimal(1)] * 6, dtype=pl.Decimal(38, 4)),
        "currency": ["USD"] * 6})
    assert payoneer._link(df)["related_ref"].to_list() == [None, "b", None, "a", "c", None]
