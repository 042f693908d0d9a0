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
