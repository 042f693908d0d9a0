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
    from rules.transfers import Matching, legs, match
    from rules.worker_ids import tag

    if links["links"] or links["unlinks"]:
        return None
    end, low = period[1], period[0] - margin
    scope = rows.filter(pl.col("date").is_between(first - margin, end + margin))
    outs, ins = legs(scope, settings)
    own_outs = outs.filter(pl.col("out_date") >= low)
    own_ins = ins.filter(pl.col("in_date") >= low)
    if min(outs.height, ins.height, own_outs.height, own_ins.height) == 0:
        return None
    mark = tag(1)

    def tagged(column: str) -> pl.Expr:
        return (pl.lit(mark) + pl.col(column)).alias(column)

    both_outs = pl.concat([outs, own_outs.with_columns(tagged("out_id"))])
    both_ins = pl.concat([ins, own_ins.with_columns(tagged("in_id"))])
    try:
        found = match(scope, settings, chain, None, (both_outs, both_ins))
    except DataError:
        return None
    if found.warnings:
        return None

    def part(frame: pl.DataFrame, column: str, own: bool) -> pl.DataFrame:
        copy = pl.col(column).str.starts_with(mark)
        return (frame.filter(copy).with_columns(pl.col(column).str.strip_prefix(mark))
                if own else frame.filter(~copy))

    def side(own: bool) -> Matching:
        hops = part(found.hops, "out_id", own)
        ambiguous = part(found.ambiguous, "out_id", own)
        if own:
            hops = hops.with_columns(pl.col("in_id").str.strip_prefix(mark))
            ambiguous = ambiguous.with_columns(
                pl.col("in_id").list.eval(pl.element().str.strip_prefix(mark)))
        return Matching(hops, ambiguous, part(found.unmatched_out, "out_id", own),
                        part(found.unmatched_in, "in_id", own), [])

    return Matched(own_outs, own_ins, side(True)), Matched(outs, ins, side(False))
