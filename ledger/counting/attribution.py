"""Which earnings funded which withdrawal (first in, first out per account), so that the costs
of getting money home (withdrawal fees, FX spread, bank and intermediary deductions, tax on
arrival: the hop costs of ledger.reconcile) can be charged back to the platforms and clients
whose money it was.

Per account and currency, every credit is a *lot* on a number line and every debit consumes
the line in order (date, file line): a withdrawal is funded by the oldest money not yet spent.
Overlaps are found with one as-of join over cumulative sums (no loop over rows). A lot is
attributed to `(platform, client)` when it is an earning (its source's provider and its
counterparty); a credit that is a matched hop's arrival, or the positive leg of a conversion,
inherits the attribution of the debit it came from, so Upwork -> Payoneer -> bank money stays
Upwork's. Anything else (an opening balance, money from an unknown origin) is *untraced*.

Weights are fractions (floats: shares, not money); the money allocated with them is Decimal,
and the unattributed remainder absorbs rounding, so `attributed + booked_at_origin +
unattributed == hop costs` exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.core.providers import platform as source_platform

if TYPE_CHECKING:
    import polars as pl

    from ledger.reconcile import Result
    from rules.fx import FxChain

UNITS = 10_000
"""Amounts are Decimal(38, 4): integer ten-thousandths make the number line exact."""
PASSES = 6
"""Inheritance depth followed (platform -> wallet -> wallet -> bank is three)."""
Q = Decimal("0.00000001")
METHOD = ("first in, first out per account and currency; hop arrivals and conversion legs "
          "inherit the funding of the debit they came from")


def funding(rows: pl.DataFrame) -> pl.DataFrame:
    """Per debit row: which credit rows funded it, FIFO per (account, currency).
    Columns: consumer (debit id), lot (credit id, null when nothing earlier explains it),
    frac (share of the debit). Fees tied to an earning by `related_ref` are netted into
    that earning's lot instead of consuming the line. Rows are handled by position (`i`)
    and accounts by number (`g`): integer joins, the ids are looked up at the end."""
    return _funding(rows)[0].collect(engine="in-memory")


def _funding(rows: pl.DataFrame, also: tuple[pl.LazyFrame, ...] = ()
             ) -> tuple[pl.LazyFrame, list[pl.DataFrame]]:
    """`funding` as a plan (a caller joins on it before its one collect), and the plans
    `also` collected with the lots and debits."""
    import polars as pl

    # one lazy plan up to the lots and debits (and the ids), one after: 2 collects
    moving = rows.lazy().filter(pl.col("amount") != 0)
    books = moving.select("account", "currency").unique().sort("account", "currency"
                                                                ).with_row_index("g")
    moving = moving.select(
        "date", "line", "account", "currency", "kind", "ref", "related_ref",
        (pl.col("amount").cast(pl.Decimal(38, 4)) * UNITS).cast(pl.Int64).alias("units"),
        pl.col("id").hash().alias("order")).with_row_index("i").join(
        books, on=["account", "currency"], how="left", maintain_order="left")
    earned = moving.filter((pl.col("kind") == "earning") & (pl.col("units") > 0)
                           & pl.col("ref").is_not_null()).select(
        "g", "ref", pl.col("i").alias("lot_i"), pl.col("ref").hash().alias("key"))
    fees = moving.filter(pl.col("kind").is_in(["platform_fee", "payment_fee", "tax"])
                         & (pl.col("units") < 0) & pl.col("related_ref").is_not_null())
    # joined on a hash of the reference (strings join slowly), then checked for equality
    tied = fees.select("i", "g", "units", "related_ref",
                       pl.col("related_ref").hash().alias("key")).join(
        earned, on=["key", "g"], how="inner").filter(
        pl.col("related_ref") == pl.col("ref")).group_by("i").agg(
        pl.col("lot_i").min(), pl.col("units").first())
    netting = tied.group_by("lot_i").agg(pl.col("units").sum().alias("fees"))
    order = ("date", "line", "order")  # a hash of the id breaks ties: import order never does
    lots = (moving.filter(pl.col("units") > 0)
            .join(netting, left_on="i", right_on="lot_i", how="left")
            .with_columns((pl.col("units") + pl.col("fees").fill_null(0)).alias("units"))
            .filter(pl.col("units") > 0)
            .sort(*order)
            .with_columns(pl.col("units").cum_sum().over("g").alias("end")))
    debits = (moving.filter(pl.col("units") < 0).join(tied.select("i"), on="i", how="anti")
              .with_columns((-pl.col("units")).alias("units"))
              .sort(*order)
              .with_columns(pl.col("units").cum_sum().over("g").alias("end")))
    lots, debits, ids, *collected = pl.collect_all(
        [lots, debits, rows.lazy().filter(pl.col("amount") != 0).select("id"), *also],
        engine="in-memory")
    if debits.is_empty():
        return pl.LazyFrame(schema={"consumer": pl.String, "lot": pl.String,
                                    "frac": pl.Float64}), collected
    points = pl.concat([lots.lazy().select("g", "end"), debits.lazy().select("g", "end")]
                       ).sort("g", "end")
    points = points.with_columns(pl.when(pl.col("g") == pl.col("g").shift(1)).then(
        pl.col("end").shift(1)).otherwise(0).alias("start")).filter(
        pl.col("end") > pl.col("start")).sort("end")
    segments = points.join_asof(
        debits.lazy().select("g", pl.col("end").alias("d_end"), pl.col("i").alias("consumer"),
                             pl.col("units").alias("total")).sort("d_end"),
        left_on="end", right_on="d_end", by="g", strategy="forward",
        check_sortedness=False).filter(pl.col("consumer").is_not_null())
    segments = segments.join_asof(
        lots.lazy().select("g", pl.col("end").alias("l_end"), pl.col("i").alias("lot"))
        .sort("l_end"),
        left_on="end", right_on="l_end", by="g", strategy="forward",
        check_sortedness=False)
    found = segments.group_by("consumer", "lot").agg(
        ((pl.col("end") - pl.col("start")).sum() / pl.col("total").first()).alias("frac"))
    # the ids by position: a gather in the plan (no collect of its own)
    ids = ids.get_column("id")
    return found.select(pl.lit(ids).gather(pl.col("consumer")).alias("consumer"),
                        pl.lit(ids).gather(pl.col("lot")).alias("lot"), "frac"), collected


def sources(rows: pl.DataFrame | pl.LazyFrame, pairs: list[tuple[str, str]]
            ) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(direct, inherited), as plans: earnings' lots with their platform, client and home
    account; and credit lots that came from a debit (hop arrivals: `pairs` (out, in) from
    reconcile; conversions: the positive and negative `fx` legs sharing a related_ref on one
    account)."""
    import polars as pl

    rows = rows.lazy()
    direct = rows.filter(pl.col("kind").is_in(["earning", "refund"]) & (pl.col("amount") > 0)
                         ).select(pl.col("id").alias("lot"),
                                  source_platform(pl.col("source")).alias("platform"),
                                  pl.col("counterparty").alias("client"),
                                  pl.col("account").alias("home"))
    fx = rows.filter((pl.col("kind") == "fx") & pl.col("related_ref").is_not_null())
    legs = fx.filter(pl.col("amount") > 0).select("account", "related_ref",
                                                  pl.col("id").alias("lot")).join(
        fx.filter(pl.col("amount") < 0).select("account", "related_ref",
                                               pl.col("id").alias("parent")),
        on=["account", "related_ref"], how="inner").unique("lot", keep="first")
    hops = pl.LazyFrame({"parent": [p for p, _ in pairs], "lot": [lot for _, lot in pairs]},
                        schema={"parent": pl.String, "lot": pl.String})
    inherited = pl.concat([hops.select("lot", "parent"), legs.select("lot", "parent")]
                          ).unique("lot", keep="first")
    return direct, inherited


def shares(rows: pl.DataFrame, pairs: list[tuple[str, str]],
           consumers: list[str] | None = None) -> pl.DataFrame:
    """Per debit id (`consumer`; only `consumers` when given): platform, client, home
    account and weight (summing to 1; a null platform is the untraced part).

    The inheritance is followed PASSES times in one plan (one collect): a pass applied to
    its own result gives it back, so passes after the attribution stops changing change
    nothing (they were cut short by a comparison after each collect)."""
    import polars as pl

    # the sources with funding's first collect: the passes then join frames, not plans
    fund, (direct, inherited) = _funding(rows, sources(rows, pairs))
    inherited = inherited.lazy()
    attr_schema = {"node": pl.String, "platform": pl.String, "client": pl.String,
                   "home": pl.String, "weight": pl.Float64}
    lot_attr = direct.lazy().select(pl.col("lot").alias("node"), "platform", "client", "home",
                                    pl.lit(1.0).alias("weight"))
    consumer_attr = pl.LazyFrame(schema=attr_schema)
    for _ in range(PASSES):
        known = pl.concat([lot_attr, inherited.join(
            consumer_attr.rename({"node": "parent"}), on="parent", how="inner").select(
            pl.col("lot").alias("node"), "platform", "client", "home", "weight")],
            how="vertical_relaxed")
        step = fund.join(known.rename({"node": "lot"}), on="lot", how="left").group_by(
            pl.col("consumer").alias("node"), "platform", "client", "home").agg(
            (pl.col("frac") * pl.col("weight").fill_null(1.0)).sum().alias("weight"))
        consumer_attr = step.select(list(attr_schema)).sort(list(attr_schema)[:4],
                                                            nulls_last=True)
    if consumers is not None:
        consumer_attr = consumer_attr.filter(pl.col("node").is_in(consumers))
    return consumer_attr.rename({"node": "consumer"}).collect(engine="in-memory")


@dataclass
class Attribution:
    """Hop costs of the period's chains charged back, in the report currency (exact)."""

    by_platform: dict[str, Decimal] = field(default_factory=dict)
    by_client: dict[str, Decimal] = field(default_factory=dict)
    hop_costs: Decimal = Decimal(0)
    attributed: Decimal = Decimal(0)
    booked_at_origin: Decimal = Decimal(0)
    """Fees the first hop booked on the account where the money was earned: already in that
    platform's `fees`, so not charged again."""
    unattributed: Decimal = Decimal(0)
    warnings: list[str] = field(default_factory=list)


def attribute(rows: pl.DataFrame, result: Result,
              value: Callable[[dt.date, str, Decimal], Decimal | None]) -> Attribution:
    """Charge each chain's hop costs to the (platform, client) shares of its first withdrawal.
    `value(date, currency, amount)` converts to the report currency (None: no rate)."""
    import polars as pl

    out = Attribution()
    if not result.chains:
        return out
    last = max(i["in_date"] for c in result.chains for h in c.hops for i in h.ins)
    weights = shares(rows.filter(pl.col("date") <= last), result.pairs,
                     [c.id for c in result.chains])
    by_consumer: dict[str, list[tuple[str | None, str | None, str | None, float]]] = {}
    for consumer, platform, client, home, weight in weights.iter_rows():
        by_consumer.setdefault(consumer, []).append((platform, client, home, weight))
    for c in result.chains:
        first = c.hops[0]
        day = first.out["out_date"]
        total = value(day, c.currency, sum(c.costs.values(), Decimal(0)))
        at_origin = value(day, c.currency, sum(first.fees_out.values(), Decimal(0)))
        if total is None or at_origin is None:
            out.warnings.append(f"no {c.currency} rate for {day}: the costs of chain {c.id} "
                                "are not attributed")
            continue
        origin = first.out["out_account"]
        out.hop_costs += total
        charged = booked = Decimal(0)
        for platform, client, home, weight in by_consumer.get(c.id, []):
            if platform is None:
                continue
            share = Decimal(repr(weight))
            own = home == origin
            amount = ((total - at_origin if own else total) * share).quantize(Q)
            if own:
                booked += (at_origin * share).quantize(Q)
            out.by_platform[platform] = out.by_platform.get(platform, Decimal(0)) + amount
            if client:
                out.by_client[client] = out.by_client.get(client, Decimal(0)) + amount
            charged += amount
        out.attributed += charged
        out.booked_at_origin += booked
        out.unattributed += total - charged - booked
    return out


def present(att: Attribution, currency: str) -> dict:
    """The report's `payout_costs` section, rounded once; `unattributed` is what is left of
    the rounded hop costs so the section foots."""
    from ledger.core.money import format_money, round_money

    hop = round_money(att.hop_costs, currency)
    charged = round_money(att.attributed, currency)
    booked = round_money(att.booked_at_origin, currency)
    return {"hop_costs": format_money(hop, currency),
            "attributed": format_money(charged, currency),
            "booked_at_origin": format_money(booked, currency),
            "unattributed": format_money(hop - charged - booked, currency),
            "method": METHOD, "warnings": att.warnings}


def for_report(rows: pl.DataFrame, result: Result, currency: str, chain: FxChain
               ) -> Attribution:
    """The period's chains' hop costs charged back, valued in the report currency at each
    chain's first withdrawal date."""
    rates = chain.rates_for({(c.hops[0].out["out_date"], c.currency) for c in result.chains},
                            currency)

    def value(day: dt.date, cur: str, amount: Decimal) -> Decimal | None:
        rate = rates.get((day, cur))
        return None if rate is None else amount * rate

    return attribute(rows, result, value)
