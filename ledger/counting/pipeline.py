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
    from ledger.reconcile.both import Matched
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
    from rules.fees import counted_rows

    # apply_rules, arrived_conversions and the window's rows in one pass (rows sorted once)
    return counted_rows(rows, schedule, window, matched, arrived)


def for_ledger(ledger: Ledger, rows: pl.DataFrame, window: tuple[dt.date, dt.date], *,
               chain: FxChain | None = None, journeys: Result | None = None) -> Counted:
    """A ledger's rows in `window` counted: its fee schedule (bundled, with ledger.toml's
    `[fees]` and `country`) and reconcile's result for the window (run here unless the caller
    has it: `journeys`; `chain` values what reconcile compares across currencies, built from the
    ledger when not given; its money in transit as columns only, `Result.transit`, not
    itemised). `rows` are the ledger's rows (`Ledger.rows`, user rules applied). Kept between
    commands (ledger.counting.kept) when reconcile is run here."""
    from ledger import reconcile
    from ledger.counting.kept import Entry
    from rules.fees import Schedule

    schedule = Schedule.for_ledger(ledger)
    if journeys is not None:
        return Counted(count(rows, schedule, journeys, window), schedule, journeys)
    entry = Entry.of(ledger, rows, chain, "window", window, today=True)
    found = entry.load() if entry is not None else None
    if found is not None:
        return Counted(found[0], schedule, found[1])
    journeys = reconcile.for_ledger(ledger, window, rows=rows, chain=chain, itemised=False)
    counted = count(rows, schedule, journeys, window)
    if entry is not None:
        entry.keep((counted, journeys))
    return Counted(counted, schedule, journeys)


@dataclass(frozen=True)
class Matches:
    """What counting reads of reconcile's matches over a span ending on `end`: `matched`
    (out_id, in_id: Result.pairs, in their order) and `arrived` (reconcile.arrivals), and for
    `same_matches` the pairs as tuples with each leg's date (`dates`: id -> date)."""

    end: dt.date
    matched: pl.DataFrame
    arrived: pl.DataFrame
    pairs: list[tuple[str, str]]
    dates: dict[str, dt.date]

    @classmethod
    def of(cls, result: Result) -> Matches:
        """A reconcile result's matches (its pairs and its period's arrivals)."""
        import polars as pl

        from ledger import reconcile

        dates: dict[str, dt.date] = {}
        for hop in result.hops:
            dates[hop.out["out_id"]] = hop.out["out_date"]
            for part in hop.ins:
                dates[part["in_id"]] = part["in_date"]
        matched = pl.DataFrame(result.pairs, schema={"out_id": pl.String, "in_id": pl.String},
                               orient="row")
        return cls(result.period[1], matched, reconcile.arrivals(result), list(result.pairs),
                   dates)


def matches(ledger: Ledger, rows: pl.DataFrame, span: tuple[dt.date, dt.date],
            chain: FxChain | None = None, matched: Matched | None = None) -> Matches:
    """`Matches.of(reconcile.for_ledger(ledger, span, rows=rows, chain=chain))` without what
    only a period's report or `ledger reconcile` shows (each hop's fees, chains, money in
    transit, unmatched lists: a Python object per hop of the whole span): the same legs
    (rules.transfers.legs of the rows within reconcile's scope margin of `span`), matched
    with the ledger's settings and links, and the arrivals in another currency taken from
    the matched hops as columns (a hop's arrival currency its first credit's by date and id,
    its amount all its credits', as reconcile.arrivals reads its hops). For the payouts'
    history, which counts and never shows the span's chains. `matched`: the span's legs
    and matches when the caller has them (ledger.reconcile.both)."""
    import polars as pl

    from ledger import reconcile
    from rules.fx import FxChain
    from rules.transfers import legs, match

    start, end = span
    if matched is None:
        chain = chain or FxChain.for_ledger(rows, ledger.rates_path)
        settings = reconcile.settings(ledger.settings().tree, str(ledger.config_path))
        margin = reconcile.scope_margin(settings)
        scope = rows.filter(pl.col("date").is_between(start - margin, end + margin))
        outs, ins = legs(scope, settings)
        found = match(scope, settings, chain, reconcile.load_links(ledger), (outs, ins))
    else:
        outs, ins, found = matched.outs, matched.ins, matched.found
    matched = found.hops.select(pl.col("out_id").cast(pl.String), pl.col("in_id").cast(pl.String))
    dated = matched.lazy().join(outs.lazy().select("out_id", "out_date"), on="out_id").join(
        ins.lazy().select("in_id", "in_date"), on="in_id")
    dated, arrived = pl.collect_all(
        [dated, reconcile.hop_arrivals(matched.lazy(), outs, ins, span)], engine="in-memory")
    dates = dict(zip(dated["out_id"].to_list(), dated["out_date"].to_list(), strict=True))
    dates.update(zip(dated["in_id"].to_list(), dated["in_date"].to_list(), strict=True))
    return Matches(end, matched, arrived, matched.rows(), dates)


def history(ledger: Ledger, rows: pl.DataFrame, span: tuple[dt.date, dt.date], *,
            chain: FxChain | None = None, journeys: Result | None = None) -> pl.DataFrame:
    """`for_ledger(...).rows` of `span` for a caller that only counts (ledger.payouts'
    history): reconcile's matches over the span (`matches`), or `journeys`' when the caller
    has them for the same rows and span (reconcile.matches_for)."""
    from rules.fees import Schedule

    past = Matches.of(journeys) if journeys is not None else matches(ledger, rows, span, chain)
    return count_matched(rows, Schedule.for_ledger(ledger), past.matched, past.arrived, span)


def with_history(ledger: Ledger, rows: pl.DataFrame, window: tuple[dt.date, dt.date], *,
                 chain: FxChain | None = None) -> tuple[Counted, pl.DataFrame | None]:
    """`for_ledger` of `window` and the history the workers' payouts read (the ledger's
    first day to the window's last, counted with reconcile's matches over that span:
    ledger.payouts.history), counting the ledger once (and matching both spans in one run
    of the matcher where it can: reconcile.match_both): the window's rows are the history's
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
    from rules.fx import FxChain

    schedule = Schedule.for_ledger(ledger)
    first, end = rows["date"].min(), window[1]
    both = None
    if first is not None and first <= window[0]:
        settings = reconcile.settings(ledger.settings().tree, str(ledger.config_path))
        if not reconcile.same_scope(rows, window[0], first, settings):
            chain = chain or FxChain.for_ledger(rows, ledger.rates_path)
            both = reconcile.match_both(rows, window, first, settings, chain,
                                        reconcile.load_links(ledger),
                                        reconcile.scope_margin(settings))
    journeys = reconcile.for_ledger(ledger, window, rows=rows, chain=chain, itemised=False,
                                    matched=both[0] if both else None)
    if first is None or first > end:  # nothing before the window's end: no history
        return Counted(count(rows, schedule, journeys, window), schedule, journeys), rows.clear()
    try:
        reused = reconcile.matches_for(journeys, rows, (first, end))
        past = Matches.of(reused) if reused is not None else matches(
            ledger, rows, (first, end), chain, both[1] if both else None)
        counted_past = count_matched(rows, schedule, past.matched, past.arrived, (first, end))
    except DataError:  # a row before the window: raised where the payouts count the history,
        # after the window's own errors and the payouts' checks, as without the shortcut
        return Counted(count(rows, schedule, journeys, window), schedule, journeys), None
    if same_matches(Matches.of(journeys), past, window):
        counted = counted_past.filter(pl.col("date").is_between(*window))
    else:
        counted = count(rows, schedule, journeys, window)
    return Counted(counted, schedule, journeys), counted_past


def same_matches(one: Matches, other: Matches, window: tuple[dt.date, dt.date]) -> bool:
    """Whether reconcile's matches `one` and `other` (of two spans ending on the same day)
    paired the same withdrawals and credits near `window`, so counting `window`'s rows with
    either gives the same rows: the pairs with a leg within the fee rules' `MATCH_DAYS` of
    the window (what their intermediary deductions read) or a withdrawal in it (its
    arrival in another currency: reconcile.arrivals) are the same pairs. A pair whose dates
    are not known counts as near. Python sets of ids: no polars plan."""
    from rules.fees import MATCH_DAYS

    if one.end != other.end:
        return False
    margin = dt.timedelta(days=MATCH_DAYS)
    low, high = window[0] - margin, window[1] + margin

    def near(found: Matches) -> set[tuple[str, str]]:
        dates = found.dates
        return {(o, i) for o, i in found.pairs
                if o not in dates or i not in dates or low <= dates[o] <= high
                or low <= dates[i] <= high}

    return near(one) == near(other)
