"""The counting pipeline: the one way every consumer turns a ledger's rows into the rows it
counts (the report, payouts, exports, the fee check, the HTML report, the research panel).

    stored rows -> user rules (`[[rules]]`, applied by `Ledger.rows`, or by the caller)
                -> reconcile's matches (which withdrawal arrived as which credit)
                -> fee rules (rules.fees.apply_rules: gross and fee of net amounts, fees inside
                   amounts, conversions inside withdrawals, intermediary deductions measured on
                   reconcile's pairs, withdrawals reconcile saw arrive in another currency)
                -> counted rows (each derived row with origin `rule:<id>`)

Before this module the recipe was written out three ways in five callers, so payouts inside a
report were counted differently from the report's own totals. Counting sits below the reports:
it imports rules, reconcile (the matcher) and the core, never report, payouts, views or render.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from ledger.reconcile import Result
    from ledger.store.directory import Ledger
    from rules.fees import Schedule
    from rules.fx import FxChain


@dataclass(frozen=True)
class Counted:
    """What counting a ledger gave: the counted rows, the fee schedule that derived them and
    reconcile's result they were counted with (the report shows all three)."""

    rows: pl.DataFrame
    schedule: Schedule
    journeys: Result | None


def count(rows: pl.DataFrame, schedule: Schedule, journeys: Result | None = None,
          window: tuple[dt.date, dt.date] | None = None) -> pl.DataFrame:
    """`rows` (user rules already applied) as every figure counts them: the fee rules with
    reconcile's result `journeys`, whose matches are the only pairs an intermediary deduction is
    measured on and whose withdrawals seen arriving in another currency are conversions.
    Without `journeys` the fee rules' own matcher pairs (the research panel, where no
    withdrawal can arrive converted). With `window` (first, last day) only its rows are kept,
    while net-of-fee accounts are still read from all `rows`."""
    import polars as pl

    from ledger import reconcile

    matched = None if journeys is None else pl.DataFrame(
        journeys.pairs, schema={"out_id": pl.String, "in_id": pl.String}, orient="row")
    arrived = None if journeys is None else reconcile.arrivals(journeys)
    return count_matched(rows, schedule, matched, arrived, window)


def count_matched(rows: pl.DataFrame, schedule: Schedule, matched: pl.DataFrame | None,
                  arrived: pl.DataFrame | None,
                  window: tuple[dt.date, dt.date] | None = None) -> pl.DataFrame:
    """`count` with reconcile's result as frames: `matched` (out_id, in_id) and `arrived`
    (reconcile.arrivals), or both None (the fee rules' own matcher). ledger batch passes
    reconcile.pairs_and_arrivals of a chunk of workers' rows (rules.worker_ids)."""
    import polars as pl

    from rules.fees import apply_rules, arrived_conversions

    counted = apply_rules(rows, schedule, window=window, matched=matched)
    if arrived is not None:
        counted = arrived_conversions(counted, arrived, schedule)
    if window is not None:
        counted = counted.filter(pl.col("date").is_between(*window))
    return counted


def for_ledger(ledger: Ledger, rows: pl.DataFrame, window: tuple[dt.date, dt.date], *,
               chain: FxChain | None = None, journeys: Result | None = None) -> Counted:
    """A ledger's rows in `window` counted: its fee schedule (bundled, with ledger.toml's
    `[fees]` and `country`) and reconcile's result for the window (run here unless the caller
    has it: `journeys`; `chain` values what reconcile compares across currencies, built from the
    ledger when not given; its money in transit as columns only, `Result.transit`, not
    itemised). `rows` are the ledger's rows (`Ledger.rows`, user rules applied)."""
    from ledger import reconcile
    from rules.fees import Schedule

    schedule = Schedule.for_ledger(ledger)
    if journeys is None:
        journeys = reconcile.for_ledger(ledger, window, rows=rows, chain=chain, itemised=False)
    return Counted(count(rows, schedule, journeys, window), schedule, journeys)


def with_history(ledger: Ledger, rows: pl.DataFrame, window: tuple[dt.date, dt.date], *,
                 chain: FxChain | None = None) -> tuple[Counted, pl.DataFrame | None]:
    """`for_ledger` of `window` and the history the workers' payouts read (the ledger's
    first day to the window's last, counted with reconcile's matches over that span:
    ledger.payouts.history), counting the ledger once: the window's rows are the history's
    rows in the window whenever reconcile matched every transfer near the window the same
    way over both spans (`same_matches`), the usual case; else the window is counted again
    with its own matches (a withdrawal near the window's edge paired differently when
    reconcile saw the longer span), so the figures never depend on the shortcut. The
    history reuses the window's reconcile where it reads the same rows
    (reconcile.matches_for: a year's report reconciles once). The history is None when
    counting it failed (ledger.payouts counts it again and raises where it always did)."""
    import polars as pl

    from ledger import reconcile
    from ledger.core.errors import DataError
    from rules.fees import Schedule

    schedule = Schedule.for_ledger(ledger)
    journeys = reconcile.for_ledger(ledger, window, rows=rows, chain=chain, itemised=False)
    first, end = rows["date"].min(), window[1]
    if first is None or first > end:  # nothing before the window's end: no history
        return Counted(count(rows, schedule, journeys, window), schedule, journeys), rows.clear()
    try:
        past = reconcile.matches_for(journeys, rows, (first, end)) or reconcile.for_ledger(
            ledger, (first, end), rows=rows, chain=chain, itemised=False)
        history = count(rows, schedule, past, (first, end))
    except DataError:  # a row before the window: raised where the payouts count the history,
        # after the window's own errors and the payouts' checks, as without the shortcut
        return Counted(count(rows, schedule, journeys, window), schedule, journeys), None
    if same_matches(journeys, past, window):
        counted = history.filter(pl.col("date").is_between(*window))
    else:
        counted = count(rows, schedule, journeys, window)
    return Counted(counted, schedule, journeys), history


def same_matches(one: Result, other: Result, window: tuple[dt.date, dt.date]) -> bool:
    """Whether reconcile's results `one` and `other` (of two spans ending on the same day)
    matched the same withdrawals and credits near `window`, so counting `window`'s rows with
    either gives the same rows: the pairs with a leg within the fee rules' `MATCH_DAYS` of
    the window (what their intermediary deductions read) or a withdrawal in it (its
    arrival in another currency: reconcile.arrivals) are the same pairs. A pair whose dates
    the hops do not tell counts as near. Python sets of the hops' ids: no polars plan."""
    from rules.fees import MATCH_DAYS

    if one.period[1] != other.period[1]:
        return False
    margin = dt.timedelta(days=MATCH_DAYS)
    low, high = window[0] - margin, window[1] + margin

    def near(result: Result) -> set[tuple[str, str]]:
        dates: dict[str, dt.date] = {}
        for hop in result.hops:
            dates[hop.out["out_id"]] = hop.out["out_date"]
            for part in hop.ins:
                dates[part["in_id"]] = part["in_date"]
        return {(o, i) for o, i in result.pairs
                if o not in dates or i not in dates or low <= dates[o] <= high
                or low <= dates[i] <= high}

    return near(one) == near(other)
