"""Which earnings funded which debit (first in, first out per account), so that the costs of
converting money and getting it home (a wallet's own conversions, withdrawal fees, FX spread,
bank and intermediary deductions, tax on arrival) can be charged to the platforms and clients
whose money it was (`traced`: the report's payout costs, docs/attribution.md).

Per account and currency, every credit is a *lot* on a number line and every debit consumes
the line in order (date, file line): a withdrawal is funded by the oldest money not yet spent.
Overlaps are found with one as-of join over cumulative sums (no loop over rows). A lot is
attributed to `(platform, client)` when it is an earning (its source's provider and its
counterparty); a credit that is a matched hop's arrival, or the positive leg of a conversion,
inherits the attribution of the debit it came from, so Upwork -> Payoneer -> bank money stays
Upwork's. Anything else (an opening balance, money from an unknown origin) is *untraced*.

Weights are fractions (floats: shares, not money); the money split with them is Decimal, each
row's parts adding up to its value exactly (`_split`), so `attributed + booked_at_origin +
unattributed == hop_costs` exactly (`charges`).
"""

from __future__ import annotations

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
METHOD = ("first in, first out per account and currency; hop arrivals and conversion legs "
          "inherit the funding of the debit they came from; each cost is charged to the "
          "funding of the debit it came from, in the period of its own date")


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
    account and weight (summing to 1; a null platform is the untraced part)."""
    fund, (direct, inherited) = _funding(rows, sources(rows, pairs))
    return _shares(fund, direct, inherited, consumers).collect(engine="in-memory")


def _shares(fund: pl.LazyFrame, direct: pl.DataFrame, inherited: pl.DataFrame,
            consumers: list[str] | None = None, earnings: bool = False) -> pl.LazyFrame:
    """`shares` from `_funding`'s plan and `sources` collected (the passes then join frames,
    not plans), as a plan; with `earnings`, per earning too (`earning`: the lot's id).

    The inheritance is followed PASSES times in one plan (one collect): a pass applied to
    its own result gives it back, so passes after the attribution stops changing change
    nothing (they were cut short by a comparison after each collect)."""
    import polars as pl

    keys = ["platform", "client", "home", *(["earning"] if earnings else [])]
    attr_schema = {"node": pl.String, **dict.fromkeys(keys, pl.String), "weight": pl.Float64}
    lot_attr = direct.lazy().select(pl.col("lot").alias("node"), "platform", "client", "home",
                                    *([pl.col("lot").alias("earning")] if earnings else []),
                                    pl.lit(1.0).alias("weight"))
    consumer_attr = pl.LazyFrame(schema=attr_schema)
    inherited_ = inherited.lazy()
    for _ in range(PASSES):
        known = pl.concat([lot_attr, inherited_.join(
            consumer_attr.rename({"node": "parent"}), on="parent", how="inner").select(
            pl.col("lot").alias("node"), *keys, "weight")], how="vertical_relaxed")
        step = fund.join(known.rename({"node": "lot"}), on="lot", how="left").group_by(
            pl.col("consumer").alias("node"), *keys).agg(
            (pl.col("frac") * pl.col("weight").fill_null(1.0)).sum().alias("weight"))
        consumer_attr = step.select(list(attr_schema)).sort(["node", *keys], nulls_last=True)
    if consumers is not None:
        consumer_attr = consumer_attr.filter(pl.col("node").is_in(consumers))
    return consumer_attr.rename({"node": "consumer"})


COST_FEES = ("platform_fee", "payment_fee", "bank_fee", "tax")
"""Fee kinds a transfer carries (reconcile.chains.hop_fees ties them to it)."""
TRACED = ("id", "kind", "platform_of", "client_of", "via", "platform", "client", "value")
"""`traced`'s columns (and `earning` when asked)."""


def traced(counted: pl.DataFrame, rows: pl.DataFrame, result: Result | None,
           chain: FxChain, currency: str, where: str = "ledger", *,
           earnings: bool = False) -> pl.DataFrame:
    """The costs of moving and converting money among the counted rows `counted`, charged to
    whose money it was: every `fx` row (a conversion's legs: their sum is its FX cost) and
    every fee, charge and tax a transfer of reconcile's hops carries (`COST_FEES`, tied as
    reconcile ties them: reconcile.chains.hop_fees; a deduction measured on arrival by the
    withdrawal it names). Each is charged to the funding of the debit it came from, first in,
    first out (`shares` of `rows`, the stored rows, with reconcile's `pairs`): a conversion's
    leg out, the withdrawal a derived conversion or fee was measured on, the withdrawal a
    hop's arrival came from. So PayPal's EUR->USD conversion of a client's payment is that
    client's, as the withdrawal of those dollars is.

    One row per part: the row's `id` and `kind`, `platform_of` (its own platform) and
    `client_of` (its counterparty), `via` (`conversion`: a conversion between an account's
    currencies the export shows; else `transfer`), `platform` and `client` (null where the
    money is untraced: earlier than the ledger, of unknown origin), `earning` (the funding
    earning's id, with `earnings`) and `value` in `currency`, valued as `chain.convert`
    values the counted rows (the report's). A row's parts add up to its value exactly: the
    weights are floats, the money split with them Decimal, what is left on the largest
    part."""
    import polars as pl

    from ledger.core.user_rules import from_source
    from rules.conversions import conversion_pairs_plan

    keys = ["platform", "client", *(["earning"] if earnings else [])]
    empty = pl.DataFrame(schema={"id": pl.String, "kind": pl.String, "platform_of": pl.String,
                                 "client_of": pl.String, "via": pl.String,
                                 **dict.fromkeys(keys, pl.String),
                                 "value": pl.Decimal(38, 12)})
    if counted.is_empty():
        return empty
    at = counted.lazy().with_row_index("_i")
    # the few conversion legs found once: in a plan, each of the pairing's branches filtered
    # every counted row again (a year of a 1M-row PayPal ledger: 0.3 s of CPU for no leg)
    fx = at.filter(pl.col("kind") == "fx").collect(engine="in-memory").lazy()
    # a conversion's legs (the one pairing rule) are charged as its leg out (an unpaired leg
    # as itself): imported, that leg is a debit of its own; derived (a withdrawal that
    # delivered or arrived in another currency), its related_ref names the withdrawal
    paired = conversion_pairs_plan(fx, key="_i")
    out_of = pl.concat([paired.select(pl.col("out").alias("_i"), pl.col("out").alias("_o")),
                        paired.select(pl.col("in").alias("_i"), pl.col("out").alias("_o"))])
    legs = fx.select("_i").join(out_of, on="_i", how="left").select(
        "_i", pl.coalesce("_o", "_i").alias("_o")).join(fx.select(
            pl.col("_i").alias("_o"), pl.col("id").alias("_own"),
            from_source(pl.col("origin")).alias("_stored"), "account", "related_ref"),
        on="_o", how="left")
    named = rows.lazy().filter(pl.col("kind") == "transfer").select(
        "account", pl.coalesce("ref", "id").alias("related_ref"),
        pl.col("id").alias("_named")).unique(["account", "related_ref"], keep="first",
                                             maintain_order=True)
    legs = legs.join(named, on=["account", "related_ref"], how="left").select(
        "_i", pl.when(pl.col("_stored")).then(pl.col("_own")).otherwise(pl.col("_named"))
        .alias("anchor"), pl.when(pl.col("_stored")).then(pl.lit("conversion"))
        .otherwise(pl.lit("transfer")).alias("via"))
    legs, fees = pl.collect_all([legs, _fee_anchors(at, result)], engine="in-memory")
    named_ref = fees.get_column("related_ref").drop_nulls()
    if named_ref.len():  # a fee naming an earning is its client's own fee, not a transfer's
        earned = rows.lazy().filter(pl.col("kind").is_in(["earning", "refund"])
                                    & pl.col("ref").is_in(named_ref.implode())).select(
            "account", pl.col("ref").alias("related_ref")).unique().collect(engine="in-memory")
        fees = fees.join(earned, on=["account", "related_ref"], how="anti")
    anchors = pl.concat([legs, fees.select("_i", "anchor", pl.lit("transfer").alias("via"))])
    if anchors.is_empty():
        return empty
    end = counted.get_column("date").max()
    funded = rows.filter(pl.col("date") <= end)  # a debit's funding is what came before it
    fund, (direct, inherited) = _funding(funded, sources(funded, list(result.pairs)
                                                         if result is not None else []))
    # a credit (a hop's arrival, a conversion's leg in) is charged as the debit it came from
    nodes = anchors.join(inherited, left_on="anchor", right_on="lot", how="left").select(
        "_i", "via", pl.coalesce("parent", "anchor").alias("node"))
    debits = nodes.get_column("node").drop_nulls().unique().to_list()
    lot_attr = direct.select(pl.col("lot").alias("node"), "platform", "client",
                             *([pl.col("lot").alias("earning")] if earnings else []),
                             pl.lit(1.0).alias("weight"))
    owners = pl.concat([lot_attr.lazy(), _shares(fund, direct, inherited, debits, earnings)
                        .select(pl.col("consumer").alias("node"), *keys, "weight")],
                       how="vertical_relaxed")
    parts = nodes.lazy().join(owners, on="node", how="left").select(
        "_i", "via", *keys, pl.col("weight").fill_null(1.0))
    moved = at.join(nodes.lazy().select("_i").unique(), on="_i", how="semi").select(
        "_i", "id", "date", "source", "line", "kind", "amount", "currency", "counterparty")
    moved, parts = pl.collect_all([moved, parts], engine="in-memory")
    valued = chain.convert(moved, currency, where=where).rows
    return _split(parts, valued, keys).select(*TRACED[:5], *keys, "value")


def _fee_anchors(at: pl.LazyFrame, result: Result | None) -> pl.LazyFrame:
    """A plan of the fee, charge and tax rows of `at` (counted rows numbered `_i`) a transfer
    of reconcile's hops carries: `_i`, anchor (the transfer's id), account, related_ref."""
    import polars as pl

    from ledger.core.user_rules import from_source
    from ledger.reconcile.chains import hop_fees_plan

    hops = result.hops if result is not None else []
    legs = {"out": (["out_id", "out_account", "out_date", "out_ref", "out_ccy", "out_role"],
                    [h.out for h in hops]),
            "in": (["in_id", "in_account", "in_date", "in_ref", "in_ccy", "in_role"],
                   [i for h in hops for i in h.ins])}
    outs, ins = (pl.DataFrame([[d[c] for d in items] for c in columns], orient="col",
                              schema={c: pl.Date if c.endswith("_date") else pl.String
                                      for c in columns})
                 for columns, items in legs.values())
    tied = hop_fees_plan(at, outs, ins, only=pl.concat([outs["out_id"], ins["in_id"]]),
                         keep=("_i", "account", "related_ref")).select(
        "_i", "anchor", "account", "related_ref")
    # a deduction measured on arrival (rules.fee_transfers.match_intermediary) is booked on
    # the receiving account and names the withdrawal it was measured on
    arrivals = pl.LazyFrame({
        "account": [i["in_account"] for h in hops for i in h.ins],
        "related_ref": [h.out["out_ref"] or h.out["out_id"] for h in hops for _ in h.ins],
        "anchor": [h.out["out_id"] for h in hops for _ in h.ins]},
        schema={"account": pl.String, "related_ref": pl.String, "anchor": pl.String})
    measured = at.filter((pl.col("kind") == "bank_fee") & ~from_source(pl.col("origin"))
                         & pl.col("related_ref").is_not_null()).select(
        "_i", "account", "related_ref").join(
        arrivals.unique(["account", "related_ref"], keep="first", maintain_order=True),
        on=["account", "related_ref"], how="inner")
    return pl.concat([tied, measured.select("_i", "anchor", "account", "related_ref")]
                     ).unique("_i", keep="first", maintain_order=True)


def _split(parts: pl.DataFrame, valued: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Each row's `value` (valued: `_i`, value) split by its parts' weights, exactly: the
    parts are rounded to the value's places and what is left goes to the largest part."""
    import polars as pl

    dec = pl.Decimal(38, 12)
    joined = parts.join(valued.select("_i", "id", "kind", "source", "counterparty",
                                      pl.col("value").cast(dec)), on="_i", how="left").sort(
        ["_i", "weight", *keys], descending=[False, True, *[False] * len(keys)],
        nulls_last=True)
    share = (pl.col("value") * pl.col("weight").cast(dec)).cast(dec)
    return joined.with_columns(share.alias("_part")).with_columns(
        pl.when(pl.col("_i").is_first_distinct())
        .then(pl.col("_part") + pl.col("value") - pl.col("_part").sum().over("_i"))
        .otherwise(pl.col("_part")).cast(dec).alias("value"),
        pl.col("kind").cast(pl.String),
        source_platform(pl.col("source")).alias("platform_of"),
        pl.col("counterparty").alias("client_of"))


def charges(costs: pl.DataFrame) -> dict[str, Decimal]:
    """`traced`'s costs in four exact sums (positive: costs): `hop_costs`, all of them;
    `booked_at_origin`, fees whose money was the platform's that booked them (Upwork's
    withdrawal fee: already in that platform's fees); `unattributed`, money with no traced
    origin (it stays on the account that booked it); `attributed`, the rest, charged back
    to a platform's money as a payout cost."""
    import polars as pl

    traced_ = pl.col("platform").is_not_null()
    own = traced_ & pl.col("kind").is_in(COST_FEES) & (pl.col("platform") == pl.col(
        "platform_of"))
    hop, booked, untraced = (Decimal(v or 0) for v in costs.select(
        (-pl.col("value").sum()).alias("all"), (-pl.col("value").filter(own).sum()).alias("own"),
        (-pl.col("value").filter(~traced_).sum()).alias("untraced")).row(0))
    return {"hop_costs": hop, "attributed": hop - booked - untraced,
            "booked_at_origin": booked, "unattributed": untraced}


def present(costs: pl.DataFrame, currency: str) -> dict:
    """The report's `payout_costs` section from `traced`'s costs, rounded once;
    `unattributed` is what is left of the rounded costs so the section foots."""
    from ledger.core.money import format_money, round_money

    sums = charges(costs)
    hop = round_money(sums["hop_costs"], currency)
    charged = round_money(sums["attributed"], currency)
    booked = round_money(sums["booked_at_origin"], currency)
    return {"hop_costs": format_money(hop, currency),
            "attributed": format_money(charged, currency),
            "booked_at_origin": format_money(booked, currency),
            "unattributed": format_money(hop - charged - booked, currency),
            "method": METHOD, "warnings": []}
