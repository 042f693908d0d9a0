"""Reconcile the payout chain: platform -> wallet -> bank, hop by hop, with what went missing.

A *hop* is one transfer out of one of the user's accounts (a platform or wallet withdrawal,
kind `transfer`, negative) matched with the credit(s) it became on another of the user's
accounts (a wallet receipt or a bank credit, kind `transfer`, positive). Hops whose arrival
is the next hop's departure (what landed in Payoneer is what Payoneer sent on) form a
*chain*. Every hop shows a waterfall in its sending currency: withdrawal and wallet fees
(fee rows next to the transfers), the FX spread against the reference rate (rules.fx), bank
and intermediary deductions (sent minus credited), tax, and what arrived; the parts add up to
what left the account exactly (the spread, or the deduction, is the measured remainder).

The public entry points are here; the work is in its sections:
- rules/transfers.py: which credit is which withdrawal (the one transfer matcher, shared
  with the fee rules), windows per provider, tolerances, split arrivals, ambiguity;
- ledger/reconcile/links.py: the user's links and unlinks, `<ledger>/links.json`;
- ledger/reconcile/chains.py: hops' waterfalls and chains;
- ledger/reconcile/as_json.py: the `ledger.reconcile/1` document (CSV: ledger/render/reconcile.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.core import providers
from ledger.core.errors import UsageError
from ledger.core.providers import BANK_FORMATS
from ledger.reconcile.as_json import SCHEMA, chain_json, hop_json, to_json, totals
from ledger.reconcile.both import match_both
from ledger.reconcile.chains import (
    HOP_COSTS,
    NEXT_HOP_DAYS,
    Chain,
    Hop,
    chain_of,
    hop_fees_plan,
    link_hops,
)
from ledger.reconcile.links import link, load_links, resolve_id, unlink
from rules.transfers import (
    DEFAULT_DAYS,
    MAX_SHORTFALL,
    MAX_SPLIT_PARTS,
    TOLERANCE,
    Settings,
    legs,
    legs_plan,
    match,
)

if TYPE_CHECKING:
    import polars as pl

    from ledger.reconcile.both import Matched
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

__all__ = ["BANK_FORMATS", "HOP_COSTS", "SCHEMA", "Chain", "Hop", "Result", "Settings",
           "arrivals", "chain_json", "for_ledger", "hop_arrivals", "hop_json", "link",
           "load_links", "match_both", "matches_for", "may_arrive_converted",
           "pairs_and_arrivals", "reconcile", "report_summary", "resolve_id", "same_scope",
           "scope_margin", "settings", "to_json", "totals", "unlink"]


def settings(config: dict, where: str = "ledger.toml") -> Settings:
    """`[reconcile]` in ledger.toml: window_days = {upwork = 5, ...}, tolerance, max_shortfall,
    max_split_parts."""
    table = config.get("reconcile") or {}
    if not isinstance(table, dict):
        raise UsageError("[reconcile] must be a table", path=where,
                         hint='e.g. [reconcile]\nwindow_days = {upwork = 5, payoneer = 3}')
    unknown = sorted(set(table) - {"window_days", "tolerance", "max_shortfall",
                                   "max_split_parts"})
    if unknown:
        raise UsageError(f"unknown [reconcile] setting(s) {unknown}", path=where,
                         hint="settings: window_days, tolerance, max_shortfall, "
                         "max_split_parts")
    parts = table.get("max_split_parts", MAX_SPLIT_PARTS)
    if not isinstance(parts, int) or isinstance(parts, bool) or not 1 <= parts <= 6:
        raise UsageError(f"[reconcile] max_split_parts = {parts!r} is not a whole number "
                         "from 1 to 6", path=where,
                         hint="e.g. max_split_parts = 3 (1: a withdrawal never splits)")
    days = dict(providers.TRANSFER_DAYS)
    given = table.get("window_days", {})
    if not isinstance(given, dict):
        raise UsageError("[reconcile] window_days must be a table", path=where,
                         hint="e.g. window_days = {upwork = 5, payoneer = 3}")
    for name, value in given.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 90:
            raise UsageError(f"[reconcile] window_days.{name} = {value!r} is not a whole "
                             "number of days from 0 to 90", path=where,
                             hint=f"e.g. window_days = {{{name} = 5}}")
        days[str(name).lower()] = value

    def fraction(name: str, default: Decimal) -> Decimal:
        value = table.get(name)
        if value is None:
            return default
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            number = Decimal(-1)
        if not Decimal(0) <= number < Decimal(1) or isinstance(value, bool):
            raise UsageError(f"[reconcile] {name} = {value!r} is not a fraction from 0 to 1",
                             path=where, hint=f'e.g. {name} = "0.03" (3%)')
        return number

    return Settings(days, fraction("tolerance", TOLERANCE),
                    fraction("max_shortfall", MAX_SHORTFALL), parts)


@dataclass
class Result:
    period: tuple[dt.date, dt.date]
    as_of: dt.date
    chains: list[Chain]
    in_transit: list[dict]
    """Withdrawals in the period not seen arriving (empty when not `itemised`: `transit`)."""
    unknown_origin: list[dict]
    ambiguous: list[dict]
    settings: Settings
    warnings: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    """Every matched (withdrawal id, credit id) in the matching scope (the period plus its
    margins), chains of other periods included: what ledger.attribution follows upstream."""
    hops: list[Hop] = field(default_factory=list)
    """Every matched hop in the matching scope (`arrivals` picks the period's)."""
    transit: pl.DataFrame | None = None
    """`in_transit` as columns (date, currency, amount, status, id): what the report's chains
    summary values without a Python step per withdrawal (a year of a busy PayPal ledger has
    100k). In in_transit's order (date, id) when `itemised`, else in no order: sorting a
    year's withdrawals cost more than the sums read from them (`_transit_value` orders the
    few it names)."""



def reconcile(rows: pl.DataFrame, period: tuple[dt.date, dt.date], settings: Settings,
              chain: object = None, links: dict | None = None,
              as_of: dt.date | None = None, *, itemised: bool = True,
              matched: Matched | None = None) -> Result:
    """Chains whose first withdrawal is in the period, and the period's unmatched money.
    Not `itemised`: `in_transit` is left empty, the money in transit only in `transit` (all
    the report's chains summary reads; a year of a busy PayPal ledger has 100k withdrawals
    in transit, whose list of dicts cost a year's report a tenth of its time). `matched`:
    the period's legs and matches when the caller has them (ledger.reconcile.both: the
    report matches the period and the payouts' history in one run). `Result.pairs` are in
    hop order (withdrawal date and id, then credit date and id), whatever order the matcher
    gave them in."""
    from itertools import groupby
    from operator import itemgetter

    import polars as pl

    as_of = as_of or dt.date.today()
    start, end = period
    margin = scope_margin(settings)
    # the scope as a plan: its legs and the hops' fees are read from it, never all its columns
    scope = rows.lazy().filter(pl.col("date").is_between(start - margin, end + margin))
    if matched is None:
        outs, ins = pl.collect_all(legs_plan(scope, settings), engine="in-memory")
        found = match(None, settings, chain, links, (outs, ins))  # type: ignore[arg-type]
    else:
        outs, ins, found = matched.outs, matched.ins, matched.found
    # only the matched hops' fees are read (fee_map): not those of every transfer in the scope
    hopped = pl.concat([found.hops["out_id"], found.hops["in_id"]])
    fees = hop_fees_plan(scope, outs, ins, only=hopped).group_by("anchor", "line").agg(
        pl.col("fee").sum())
    ambiguous_ids = set(found.ambiguous["out_id"].to_list())
    ambiguous_in = {i for ids in found.ambiguous["in_id"].to_list() for i in ids}
    # the hops' rows and the period's unmatched and ambiguous money: one plan each, one collect
    transit = found.unmatched_out.lazy().filter(
        pl.col("out_date").is_between(start, end) & ~pl.col("out_id").is_in(
            list(ambiguous_ids))).with_columns(
        # an as-of day inside the period: what left after it is 0 days old, never negative
        (pl.lit(as_of) - pl.col("out_date")).dt.total_days().clip(lower_bound=0)
        .alias("age_days")).pipe(
        lambda t: t.sort("out_date", "out_id") if itemised else t).with_columns(
        pl.when(pl.col("age_days") <= pl.col("window")).then(pl.lit("in_transit"))
        .otherwise(pl.lit("overdue")).alias("status"))  # sums need no order
    # what is in transit: as the report sums it, and listed (when `itemised`), the
    # provider's own reference, date and amount: what its support asks for when chasing
    moving = transit.select(pl.col("out_date").alias("date"), pl.col("out_ccy").alias("currency"),
                            pl.col("sent").alias("amount"), "status", pl.col("out_id").alias("id"))
    listed = transit.select(  # columns first: a year's withdrawals, not row by row
        pl.col("out_id").alias("id"), pl.col("out_ref").alias("ref"),
        pl.col("out_date").cast(pl.String).alias("date"), pl.col("out_account").alias("account"),
        pl.col("sent").alias("amount"), pl.col("out_ccy").alias("currency"),
        pl.col("out_text").fill_null("").alias("description"), "age_days",
        pl.col("window").alias("usual_days"), "status")
    fees, hop_rows, moving, listed, orphan, amb_rows = pl.collect_all([
        fees, found.hops.lazy().join(outs.lazy(), on="out_id").join(ins.lazy(), on="in_id").sort(
            "out_date", "out_id", "in_date", "in_id"),
        moving, listed if itemised else listed.head(0),
        found.unmatched_in.lazy().filter(
            pl.col("in_date").is_between(start, end)
            & ~pl.col("in_id").is_in(list(ambiguous_in))).sort("in_date", "in_id"),
        found.ambiguous.lazy().join(outs.lazy(), on="out_id").filter(
            pl.col("out_date").is_between(start, end)).sort("out_date", "out_id")],
        engine="in-memory")
    fee_map: dict[str, dict[str, Decimal]] = {}
    for anchor, line, fee in fees.iter_rows():
        fee_map.setdefault(anchor, {})[line] = Decimal(fee)
    hops: list[Hop] = []
    linked = hop_rows.to_dicts()
    for _, group in groupby(linked, key=itemgetter("out_id")):
        items = list(group)
        first = items[0]
        fees_in: dict[str, Decimal] = {}
        for item in items:
            for line, fee in fee_map.get(item["in_id"], {}).items():
                fees_in[line] = fees_in.get(line, Decimal(0)) + fee
        rate = first["rate"]
        hop = Hop(out=first, ins=items, rule=first["rule"], confidence=first["confidence"],
                  rate=Decimal(rate) if rate is not None else None,
                  rate_provider=first["rate_provider"],
                  fees_out=fee_map.get(first["out_id"], {}), fees_in=fees_in)
        hop.compute()
        hops.append(hop)
    chains = [chain_of(seq) for seq in link_hops(hops)]
    for c in chains:
        loss = Decimal(0)
        for hop in c.hops:
            if hop.rule.startswith("same_currency") or hop.rule == "split_credit":
                unexplained = hop.costs["bank_deductions"] - hop.fees_in.get("bank_deductions",
                                                                             Decimal(0))
                if unexplained > settings.tolerance * Decimal(hop.out["sent"]):
                    loss += unexplained
        c.possible_loss = loss
    chains = [c for c in chains if start <= c.hops[0].out["out_date"] <= end]
    chains.sort(key=lambda c: (c.hops[0].out["out_date"], c.id))
    in_transit = listed.to_dicts()
    for item in in_transit:
        item["description"] = item["description"].strip()
    unknown = [{"id": r["in_id"], "ref": r["in_ref"], "date": r["in_date"].isoformat(),
                "account": r["in_account"], "amount": r["received"], "currency": r["in_ccy"],
                "description": r["in_text"].strip()} for r in orphan.iter_rows(named=True)]
    ambiguous = [{"out": r["out_id"], "date": r["out_date"].isoformat(),
                  "account": r["out_account"], "amount": r["sent"], "currency": r["out_ccy"],
                  "candidates": r["in_id"],
                  "hint": f"ledger reconcile link {r['out_id'][:8]} {r['in_id'][0][:8]}"}
                 for r in amb_rows.iter_rows(named=True)]
    pairs = list(zip(hop_rows.get_column("out_id").to_list(),
                     hop_rows.get_column("in_id").to_list(), strict=True))
    return Result((start, end), as_of, chains, in_transit, unknown, ambiguous, settings,
                  found.warnings, pairs, hops, moving)


def scope_margin(settings: Settings) -> dt.timedelta:
    """How far either side of its period reconcile reads rows: the longest transfer window plus
    the days a chain's next hop may leave (a period's matches depend on its margins)."""
    return dt.timedelta(days=max([*settings.window_days.values(), DEFAULT_DAYS])
                        + NEXT_HOP_DAYS)


def matches_for(result: Result, rows: pl.DataFrame, period: tuple[dt.date, dt.date]
                ) -> Result | None:
    """`result`'s matches (`pairs`, `hops`) as reconciling the same `rows` over `period` would
    find them, when it would read the same rows: the same last day, and no row between the two
    periods' first days less the margin (so a year's report and the history from the ledger's
    first day, ledger.payouts, match once). The chains and lists of unmatched money are left
    empty: they belong to a period, and this is for counting (`arrivals`, the fee rules'
    pairs). None when the rows read would differ (reconcile again)."""
    (start, end), (before, last) = period, result.period
    if end != last or not same_scope(rows, start, before, result.settings):
        return None
    return Result(period, result.as_of, [], [], [], [], result.settings, [],
                  result.pairs, result.hops)


def same_scope(rows: pl.DataFrame, start: dt.date, other: dt.date, settings: Settings) -> bool:
    """Whether reconciling `rows` from `start` and from `other` (to the same last day) reads
    the same rows: none between the two first days less the scope margin."""
    margin = scope_margin(settings)
    low, high = min(start, other) - margin, max(start, other) - margin
    dates = rows.get_column("date")  # the one column compared: no copy of the rows
    return not ((dates >= low) & (dates < high)).any()


def arrivals(result: Result) -> pl.DataFrame:
    """Withdrawals in the period that arrived in another currency without saying so (no
    `[delivered ...]` tag in the arrival's currency): id, _other (what was credited, all parts,
    before the receiving side's charge rows) and _other_cur. For
    rules.fees.arrived_conversions, which makes them conversions in the report."""
    import polars as pl

    start, end = result.period
    found = [(h.out["out_id"], sum((Decimal(i["received"]) for i in h.ins), Decimal(0)),
              h.in_ccy) for h in result.hops
             if start <= h.out["out_date"] <= end and h.out["out_ccy"] != h.in_ccy
             and h.out.get("delivered_ccy") != h.in_ccy]
    # amounts as text: a Python Decimal handed to polars imports numpy
    return pl.DataFrame([(i, format(o, "f"), c) for i, o, c in found],
                        schema={"id": pl.String, "_other": pl.String, "_other_cur": pl.String},
                        orient="row").with_columns(pl.col("_other").cast(pl.Decimal(38, 4)))


def pairs_and_arrivals(rows: pl.DataFrame, settings: Settings, chain: object = None
                       ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What counting takes from reconciling all of `rows` (period: their first to last day;
    no links): the matched pairs (out_id, in_id: `Result.pairs`) and `arrivals` of the
    result, without the chains, fees and lists of unmatched money that only `ledger
    reconcile` and the report's chains show. Vectorised, so rows of many workers
    (rules.worker_ids) are matched at once (ledger batch)."""
    outs, ins = legs(rows, settings)  # once: the matcher is handed them
    found = match(rows, settings, chain, None, (outs, ins))
    pairs = found.hops.select("out_id", "in_id")
    return pairs, hop_arrivals(pairs.lazy(), outs, ins).collect(engine="in-memory")


def hop_arrivals(pairs: pl.LazyFrame, outs: pl.DataFrame, ins: pl.DataFrame,
                 period: tuple[dt.date, dt.date] | None = None) -> pl.LazyFrame:
    """`arrivals` as a plan over the matched `pairs` (out_id, in_id) and the legs they pair
    (rules.transfers.legs): a hop's arrival currency is its first credit's (by date, then id),
    its amount all its credits'; only withdrawals in `period` (all without one), in hop order
    (by withdrawal date, then id)."""
    import polars as pl

    hops = pairs.join(outs.lazy().select("out_id", "out_date", "out_ccy", "delivered_ccy"),
                      on="out_id").join(
        ins.lazy().select("in_id", "in_date", "in_ccy", "received"), on="in_id")
    arrived = hops.sort("out_date", "out_id", "in_date", "in_id").group_by(
        "out_id", maintain_order=True).agg(
        pl.col("in_ccy").first(), pl.col("received").sum(), pl.col("out_ccy").first(),
        pl.col("delivered_ccy").first(), pl.col("out_date").first())
    if period is not None:
        arrived = arrived.filter(pl.col("out_date").is_between(*period))
    return arrived.filter((pl.col("out_ccy") != pl.col("in_ccy")) & (
        pl.col("delivered_ccy").is_null() | (pl.col("delivered_ccy") != pl.col("in_ccy")))
    ).select(pl.col("out_id").alias("id"),
             pl.col("received").cast(pl.Decimal(38, 4)).alias("_other"),
             pl.col("in_ccy").alias("_other_cur"))


def may_arrive_converted(rows: pl.DataFrame) -> bool:
    """Whether a withdrawal could arrive in another currency: there are withdrawals and
    credits between the user's accounts, in more than one currency. When not, `reconcile`
    finds no such arrival, and callers with many small ledgers (ledger batch) skip it."""
    outs, ins = legs(rows, settings({}))
    return bool(outs.height and ins.height) and len({*outs["out_ccy"], *ins["in_ccy"]}) > 1


def for_ledger(ledger: Ledger, period: tuple[dt.date, dt.date], *, online: bool = False,
               as_of: dt.date | None = None, rows: pl.DataFrame | None = None,
               chain: object = None, itemised: bool = True,
               matched: Matched | None = None) -> Result:
    from rules.fx import FxChain

    rows = ledger.rows() if rows is None else rows
    chain = chain or FxChain.for_ledger(rows, ledger.rates_path, online=online)
    return reconcile(rows, period, settings(ledger.settings().tree, str(ledger.config_path)), chain,
                     load_links(ledger), as_of, itemised=itemised, matched=matched)


def report_summary(ledger: Ledger, rows: pl.DataFrame, period: object, currency: str,
                   chain: FxChain, result: Result | None = None) -> dict:
    """The `chains` section of `ledger report --format json`: matched chains, arrived, hop
    costs and money in transit for the period, valued in the report currency at the rate of
    each withdrawal's date (rows without a rate are left out and named in `warnings`)."""
    from ledger.reconcile.as_json import money

    if result is None:
        result = for_ledger(ledger, (period.start, period.end), rows=rows,  # type: ignore[attr-defined]
                            chain=chain)
    items = [(c.hops[0].out["out_date"], c.currency, c.arrived,
              sum(c.costs.values(), Decimal(0))) for c in result.chains]
    transit = result.transit if result.transit is not None else _transit_frame(result)
    rates = chain.rates_for({(d, cur) for d, cur, *_ in items}, currency)
    warnings: list[str] = []

    def missing(d: dt.date, cur: str) -> str:
        return f"no {cur}->{currency} rate for {d}: left out of the chains summary"

    def value(d: dt.date, cur: str, amount: Decimal) -> Decimal:
        rate = rates.get((d, cur))
        if rate is None:
            warnings.append(missing(d, cur))
            return Decimal(0)
        return amount * rate

    arrived = sum((value(d, cur, a) for d, cur, a, _ in items), Decimal(0))
    costs = sum((value(d, cur, k) for d, cur, _, k in items), Decimal(0))
    moving, unvalued = _transit_value(transit, currency, chain)
    warnings += [missing(d, cur) for d, cur in unvalued]
    return {"matched": len(result.chains), "arrived": money(arrived, currency),
            "hop_costs": money(costs, currency), "in_transit": money(moving, currency),
            "in_transit_count": transit.height,
            "overdue_count": transit["status"].eq("overdue").sum(),
            "unknown_origin_count": len(result.unknown_origin),
            "ambiguous_count": len(result.ambiguous), "warnings": warnings}


def _transit_frame(result: Result) -> pl.DataFrame:
    """`result.in_transit` as the columns `Result.transit` holds (a Result made by hand)."""
    import polars as pl

    return pl.DataFrame(
        {"date": [dt.date.fromisoformat(t["date"]) for t in result.in_transit],
         "currency": [t["currency"] for t in result.in_transit],
         "amount": [Decimal(t["amount"]) for t in result.in_transit],
         "status": [t["status"] for t in result.in_transit],
         "id": [t["id"] for t in result.in_transit]},
        schema={"date": pl.Date, "currency": pl.String, "amount": pl.Decimal(38, 4),
                "status": pl.String, "id": pl.String})


def _transit_value(transit: pl.DataFrame, currency: str, chain: FxChain
                   ) -> tuple[Decimal, list[tuple[dt.date, str]]]:
    """(the money in transit valued in `currency` at each withdrawal's date's rate, the
    (date, currency) of each withdrawal without a rate, in (date, id) order whatever the
    order of `transit`): one lookup and one sum, exact in Decimal."""
    import polars as pl

    from rules.fx_reference import rate_dtype

    if transit.is_empty():
        return Decimal(0), []
    needs = transit.lazy().filter(pl.col("currency") != currency).select(
        "date", "currency").unique().collect(engine="in-memory")
    valued = transit.lazy().select("date", "currency", "amount", "id")
    if needs.height:
        found = chain.lookup(needs, currency).lazy().select(
            "date", "currency", pl.col("rate").cast(rate_dtype()))
        valued = valued.join(found, on=["date", "currency"], how="left", maintain_order="left")
    else:
        valued = valued.with_columns(pl.lit(None, dtype=rate_dtype()).alias("rate"))
    one = pl.lit(1).cast(rate_dtype())
    valued = valued.with_columns(pl.when(pl.col("currency") == currency).then(one)
                                 .otherwise(pl.col("rate")).alias("rate"))
    exact = pl.Decimal(38, 16)  # an amount's 4 decimals times a rate's 12: no digit lost
    total, unvalued = pl.collect_all([  # one collect for the sum and the unvalued
        valued.select((pl.col("amount").cast(exact) * pl.col("rate")).sum()),
        valued.filter(pl.col("rate").is_null()).sort("date", "id").select("date", "currency")],
        engine="in-memory")
    total = total.item()
    return (Decimal(total) if total is not None else Decimal(0)), unvalued.rows()
