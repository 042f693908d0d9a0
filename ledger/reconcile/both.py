"""A period's matching and its history's in one run of the matcher (the report with
[[workers]]: the period's reconcile, and the payouts' history from the ledger's first day).

The two scopes end on the same day; the history's starts earlier. Their legs are stacked, the
period's ids tagged as a second worker's (rules.worker_ids), and matched at once: the matcher
joins on ids and on the worker tag, so each copy is matched as it is alone (its rounds settle
each group of look-alike transfers by that group's candidates only) and the planning cost of
~40 polars plans is paid once instead of twice. The period's legs are the history's legs in
the period's scope (`legs` is a filter and a projection of rows).

What a copy's result cannot show alone is left to separate runs (`None`): user links (ids
to tag), a warning (its text counts the withdrawals of both copies), no withdrawal or credit
on either side (the matcher's early return), or an error (raised where a separate run raises
it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from rules.transfers import Matching, Settings


@dataclass(frozen=True)
class Matched:
    """One scope's matching as reconcile reads it: its legs and the matcher's result."""

    outs: pl.DataFrame
    ins: pl.DataFrame
    found: Matching


def match_both(rows: pl.DataFrame, period: tuple[dt.date, dt.date], first: dt.date,
               settings: Settings, chain: object, links: dict, margin: dt.timedelta
               ) -> tuple[Matched, Matched] | None:
    """(the period's, the history's) matching, as `match` of each scope gives it, where
    `period`'s scope is its days plus reconcile's `margin` (ledger.reconcile.scope_margin)
    and the history's is `first` (on or before the period's start) to the period's end plus
    that margin; None when one run cannot give both exactly (see the module)."""
    import polars as pl

    from ledger.core.errors import DataError
    from rules.transfers import Matching, legs_plan, match
    from rules.worker_ids import tag

    if links["links"] or links["unlinks"]:
        return None
    end, low = period[1], period[0] - margin
    mark = tag(1)

    def tagged(column: str) -> pl.Expr:
        return (pl.lit(mark) + pl.col(column)).alias(column)

    # the history's legs (the scope a plan: only the columns legs read), then the period's (a
    # filter of them) and the two stacked in one collect_all (the legs' plan in that
    # collect_all too cost 0.65 ms more on the 5-year ledger: polars' CSE did not pay)
    outs, ins = pl.collect_all(legs_plan(rows.lazy().filter(
        pl.col("date").is_between(first - margin, end + margin)), settings), engine="in-memory")
    own_outs, own_ins = outs.lazy().filter(pl.col("out_date") >= low), ins.lazy().filter(
        pl.col("in_date") >= low)
    own_outs, own_ins, both_outs, both_ins = pl.collect_all(
        [own_outs, own_ins, pl.concat([outs.lazy(), own_outs.with_columns(tagged("out_id"))]),
         pl.concat([ins.lazy(), own_ins.with_columns(tagged("in_id"))])], engine="in-memory")
    if min(outs.height, ins.height, own_outs.height, own_ins.height) == 0:
        return None
    try:
        found = match(None, settings, chain, None, (both_outs, both_ins))  # type: ignore[arg-type]
    except DataError:
        return None
    if found.warnings:
        return None

    def part(frame: pl.DataFrame, column: str, own: bool) -> pl.LazyFrame:
        copy = pl.col(column).str.starts_with(mark)
        return (frame.lazy().filter(copy).with_columns(pl.col(column).str.strip_prefix(mark))
                if own else frame.lazy().filter(~copy))

    def side(own: bool) -> list[pl.LazyFrame]:
        hops = part(found.hops, "out_id", own)
        ambiguous = part(found.ambiguous, "out_id", own)
        if own:
            hops = hops.with_columns(pl.col("in_id").str.strip_prefix(mark))
            ambiguous = ambiguous.with_columns(
                pl.col("in_id").list.eval(pl.element().str.strip_prefix(mark)))
        return [hops, ambiguous, part(found.unmatched_out, "out_id", own),
                part(found.unmatched_in, "in_id", own)]

    frames = pl.collect_all([*side(True), *side(False)], engine="in-memory")  # one collect
    return (Matched(own_outs, own_ins, Matching(*frames[:4], [])),
            Matched(outs, ins, Matching(*frames[4:], [])))
