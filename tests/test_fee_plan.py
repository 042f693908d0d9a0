"""The fee rules in one pass (rules.fee_apply: only transfers, conversion legs and amounts
with a fee inside go through the rules one by one, the whole frame is assembled and sorted
once, and ledger.counting.count_matched folds arrived_conversions and the window's filter in):
the rows, in their order, must be those the rules applied one by one to the whole frame
gave, each step sorted by date (issue 23)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import DATA
from tests.test_no_numpy import _five


def _one_by_one(rows: pl.DataFrame, schedule: object,
                window: tuple[dt.date, dt.date] | None = None,
                matched: pl.DataFrame | None = None,
                arrived: pl.DataFrame | None = None, *, clip: bool = True) -> pl.DataFrame:
    """count_matched as it was: each rule replacing its rows in the whole frame, sorted by
    date after each, then arrived_conversions, then the window's rows (`clip`; else what
    apply_rules gave)."""
    from rules.fees import (
        MATCH_DAYS,
        arrived_conversions,
        derive_fees,
        match_intermediary,
        needs_derivation,
        net_accounts,
        split_conversions,
        split_included_fees,
    )

    accounts = net_accounts(rows)
    if window is not None:
        margin = dt.timedelta(days=MATCH_DAYS)
        rows = rows.filter(pl.col("date").is_between(window[0] - margin, window[1] + margin))
    mask = needs_derivation(accounts)
    if rows.height and rows.select(mask.any()).item():
        derived = derive_fees(rows, schedule, accounts)  # type: ignore[arg-type]
        rows = pl.concat([rows.filter(~mask.fill_null(False)), derived]).sort(
            "date", maintain_order=True)
    if rows.height:
        rows = split_included_fees(rows, schedule)  # type: ignore[arg-type]
        rows = split_conversions(rows, schedule)  # type: ignore[arg-type]
        rows = match_intermediary(rows, schedule, matched)  # type: ignore[arg-type]
    if arrived is not None:
        rows = arrived_conversions(rows, arrived, schedule)  # type: ignore[arg-type]
    if window is not None and clip:
        rows = rows.filter(pl.col("date").is_between(*window))
    return rows


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _five(tmp_path_factory.mktemp("five"), fiverr=True)


def _arrivals(rows: pl.DataFrame) -> pl.DataFrame:
    """Some withdrawals in USD said to have arrived in PKR (as reconcile.arrivals says)."""
    outs = rows.filter((pl.col("kind") == "transfer") & (pl.col("amount") < 0)
                       & (pl.col("currency") == "USD")
                       & pl.col("counter_currency").is_null()).gather_every(3)
    return outs.select("id", (-pl.col("amount") * 280).cast(pl.Decimal(38, 4)).alias("_other"),
                       pl.lit("PKR").alias("_other_cur"))


WINDOWS = [None, (dt.date(2023, 6, 1), dt.date(2023, 6, 30)),
           (dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
           (dt.date(2000, 1, 1), dt.date(2000, 1, 31)),
           (dt.date(2000, 1, 1), dt.date(2030, 12, 31))]


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("reconciled", [False, True])
def test_counted_rows_are_the_rules_applied_one_by_one(five: Path, window: object,
                                                       shuffled: bool, reconciled: bool) -> None:
    """Same rows, same order: with the ledger's rows as stored (sorted) and shuffled (ties
    of a day in another order, the sort path), windows inside, around and outside the rows,
    with reconcile's pairs and arrivals and with the rules' own matcher."""
    from ledger.counting.pipeline import count_matched
    from ledger.store.directory import Ledger
    from rules.fees import Schedule, apply_rules
    from rules.transfers import Settings, match

    ledger = Ledger(five)
    rows = ledger.rows()
    if shuffled:
        rows = rows.sample(fraction=1.0, shuffle=True, seed=11)
    schedule = Schedule.for_ledger(ledger)
    matched = match(rows, Settings()).hops.select("out_id", "in_id") if reconciled else None
    arrived = _arrivals(rows) if reconciled else None
    fast = count_matched(rows, schedule, matched, arrived, window)  # type: ignore[arg-type]
    slow = _one_by_one(rows, schedule, window, matched, arrived)  # type: ignore[arg-type]
    assert_frame_equal(fast, slow)
    if window is None or window[1].year == 2030:  # all the rows: every kind of rule
        origins = {o.split(".")[0] for o in fast.get_column("origin").unique().to_list()}
        assert {"rule:fiverr", "rule:transfers"} <= origins, origins
    if reconciled and window is None:
        assert fast.filter(pl.col("origin") == "rule:transfers.arrival.conversion").height
    applied = apply_rules(rows, schedule, window, matched)  # type: ignore[arg-type]
    assert_frame_equal(applied, _one_by_one(rows, schedule, window, matched, clip=False))


def _parse(path: Path) -> pl.DataFrame:
    from importers import registry
    from importers.base import ImportOptions

    return registry.parse(registry.read(path), ImportOptions(today=dt.date(2026, 11, 23))).rows


@pytest.mark.parametrize("name", ["wise/statement_12345678_USD_2024-06-01_2024-06-30.csv",
                                  "payoneer/transactions-17col.csv"])
def test_fees_inside_amounts_and_lone_legs_as_one_by_one(name: str) -> None:
    """A Wise statement (fees inside amounts, a lone conversion leg whose other leg is
    derived from its tag, a transfer that delivered PKR) and a Payoneer export (paired legs,
    a withdrawal in PKR), in their order and reversed."""
    from rules.fees import apply_rules, load_schedule

    bundled = load_schedule()

    rows = _parse(DATA / name)
    for given in (rows, rows.reverse()):
        once = apply_rules(given, bundled)
        assert_frame_equal(once, _one_by_one(given, bundled))
        assert once.height > given.height
        assert_frame_equal(apply_rules(once, bundled), once)


def test_untagged_lone_legs_derive_no_other_leg() -> None:
    """Conversion legs without a tag next to a tagged transfer: the lone-leg pairing is
    skipped (a lone leg's other leg comes from its tag), and nothing else changes."""
    from rules.fee_transfers import _lone_plan
    from rules.fees import load_schedule, split_conversions

    bundled = load_schedule()

    rows = _parse(DATA / "wise" / "statement_12345678_USD_2024-06-01_2024-06-30.csv")
    fx = pl.col("kind") == "fx"
    untagged = rows.with_columns(
        pl.when(fx).then(None).otherwise(pl.col("counter_currency")).alias("counter_currency"),
        pl.when(fx).then(None).otherwise(pl.col("counter_amount")).alias("counter_amount"))
    assert untagged.filter(fx).height and untagged["counter_currency"].null_count() < rows.height
    assert _lone_plan(untagged.lazy().filter(fx)).collect().height  # lone legs, untagged
    out = split_conversions(untagged, bundled)
    assert not out.filter(pl.col("description").str.ends_with("(other leg, from the tag)")
                          ).height
    assert out.filter(fx & (pl.col("origin") == "rule:transfers.conversion.delivered")).height
    tagged = split_conversions(rows, bundled)
    assert tagged.filter(pl.col("description").str.ends_with("(other leg, from the tag)")
                         ).height


def test_nothing_derived_gives_the_rows_as_given() -> None:
    from rules.fees import apply_rules, counted_rows, load_schedule

    bundled = load_schedule()

    rows = _parse(DATA / "payoneer" / "transactions-17col.csv").filter(
        pl.col("kind") == "earning")
    assert rows.height
    assert apply_rules(rows, bundled) is rows
    window = (rows["date"].min(), rows["date"].max())
    assert_frame_equal(counted_rows(rows, bundled, window), rows)  # type: ignore[arg-type]


def test_shares_of_some_consumers_are_those_of_all_filtered() -> None:
    """attribution.shares with `consumers` filters in its one plan what the report kept of
    all the shares; funding (a plan gathering ids by position) gives each debit's lots."""
    from ledger import reconcile as rc
    from ledger.counting import attribution as at
    from tests.test_attribution import pooled
    from tests.test_reconcile import JUNE, rates

    rows = pooled()
    result = rc.reconcile(rows, JUNE, rc.settings({}),
                          rates(("2024-06-08", "USD", "PKR", "280")), None, dt.date(2024, 7, 1))
    every = at.shares(rows, result.pairs)
    wanted = [c.id for c in result.chains]
    assert len(wanted) > 1 and every.height > len(wanted)
    some = at.shares(rows, result.pairs, wanted)
    assert_frame_equal(some, every.filter(pl.col("consumer").is_in(wanted)))
    assert at.shares(rows, result.pairs, []).is_empty()
    fund = at.funding(rows)
    ids = set(rows.get_column("id").to_list())
    assert fund.height and set(fund.get_column("consumer").to_list()) <= ids
    assert set(fund.get_column("lot").drop_nulls().to_list()) <= ids
    sums = fund.group_by("consumer").agg(pl.col("frac").sum())
    assert all(abs(f - 1) < 1e-9 for f in sums.get_column("frac").to_list())


def test_sums_by_month_are_the_rows_summed_in_python() -> None:
    """totals.sums_by_month (months and period in one collect): each month's and the
    period's exact sum per kind, kinds that are not income left out."""
    import random
    from decimal import Decimal

    from ledger.core.schema import KINDS
    from ledger.counting.totals import NOT_INCOME, sums_by_month

    rnd = random.Random(5)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=rnd.randrange(120)) for _ in range(300)]
    kinds = [rnd.choice(KINDS) for _ in days]
    values = [Decimal(rnd.randrange(-10**9, 10**9)).scaleb(-6) for _ in days]
    valued = pl.DataFrame({"date": days, "kind": kinds, "value": [str(v) for v in values]},
                          schema={"date": pl.Date, "kind": pl.Enum(KINDS), "value": pl.String}
                          ).with_columns(pl.col("value").cast(pl.Decimal(38, 12)))
    months, whole = sums_by_month(valued)
    expect: dict[str, dict[str, Decimal]] = {}
    for day, kind, value in zip(days, kinds, values, strict=True):
        if kind in NOT_INCOME:
            continue
        month = expect.setdefault(day.strftime("%Y-%m"), {k: Decimal(0) for k in KINDS})
        month[kind] += value
    assert months == dict(sorted(expect.items()))
    assert list(months) == sorted(months)
    assert whole == {k: sum((m[k] for m in expect.values()), Decimal(0)) for k in KINDS}
