"""Hops and chains: a matched withdrawal and its credit(s) as a waterfall in the sending
currency (withdrawal and wallet fees, FX spread against the reference rate, bank and
intermediary deductions, tax, what arrived; the parts add up to what left the account exactly),
and hops joined into chains where what one hop delivered is what the next one sent on."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

HOP_COSTS = ("platform_fee", "withdrawal_fee", "wallet_fees", "fx_spread", "bank_deductions",
             "tax")
"""Waterfall lines of a hop, in order; `arrived` is what is left."""
NEXT_HOP_DAYS = 31
"""A wallet's withdrawal continues a chain when it leaves within this many days of arriving."""
Q = Decimal("0.00000001")


def hop_fees(rows: pl.DataFrame, outs: pl.DataFrame, ins: pl.DataFrame,
             only: pl.Series | None = None) -> pl.DataFrame:
    """`hop_fees_plan` collected."""
    return hop_fees_plan(rows, outs, ins, only).collect(engine="in-memory")


def hop_fees_plan(rows: pl.DataFrame | pl.LazyFrame, outs: pl.DataFrame, ins: pl.DataFrame,
                  only: pl.Series | None = None, keep: tuple[str, ...] = ()) -> pl.LazyFrame:
    """Fee, charge and tax rows that belong to a transfer: columns anchor (transfer id), line
    (waterfall line), fee (positive, in the transfer's currency). A fee belongs to the
    transfer whose ref its related_ref names, else to a transfer on the same account and day
    (withdrawal fees for withdrawals; bank charges and taxes for credits).

    `only` (transfer ids: the matched hops'): the fees of those transfers, the same as
    without it. Which transfer a fee belongs to depends on the fee and the transfers alone,
    so a fee that names none of them (related_ref) or shares no account, day and currency
    with one is never joined (a year of a PayPal ledger: 900k fees, 100k withdrawals that
    never arrive). `keep`: columns of the fee rows kept beside (ledger.counting.attribution
    charges each fee row to whose money its transfer moved). A plan: reconcile collects it
    with its other plans."""
    import polars as pl

    kept = rows.lazy().collect_schema() if keep else {}
    empty = pl.LazyFrame(schema={**{c: kept[c] for c in keep}, "anchor": pl.String,
                                 "line": pl.String, "fee": pl.Decimal(38, 4)})
    if (only is not None and only.is_empty()) or (outs.is_empty() and ins.is_empty()):
        return empty
    costs = rows.lazy().filter(  # the columns read, not a copy of every column (h23year)
        pl.col("kind").is_in(["platform_fee", "payment_fee", "bank_fee", "tax"])
        & (pl.col("amount") < 0)).select("id", "account", "date", "currency", "kind", "category",
                                         "related_ref", (-pl.col("amount")).alias("fee"),
                                         *(c for c in keep if c not in ("account",
                                                                        "related_ref")))
    # one plan (was ~15 eager steps)
    anchors = pl.concat([
        outs.lazy().select(
            pl.col("out_id").alias("anchor"), pl.col("out_account").alias("account"),
            pl.col("out_date").alias("date"), pl.col("out_ref").alias("ref"),
            pl.col("out_ccy").alias("currency"), pl.col("out_role").alias("role"),
            pl.lit("out").alias("side")),
        ins.lazy().select(
            pl.col("in_id").alias("anchor"), pl.col("in_account").alias("account"),
            pl.col("in_date").alias("date"), pl.col("in_ref").alias("ref"),
            pl.col("in_ccy").alias("currency"), pl.col("in_role").alias("role"),
            pl.lit("in").alias("side"))])
    if only is not None:
        some = anchors.filter(pl.col("anchor").is_in(only.implode()))
        costs = pl.concat([
            costs.filter(pl.col("related_ref").is_not_null()).join(
                some.select("account", pl.col("ref").alias("related_ref"), "currency"),
                on=["account", "related_ref", "currency"], how="semi"),
            costs.filter(pl.col("related_ref").is_null()).join(
                some.select("account", "date", "currency"),
                on=["account", "date", "currency"], how="semi")])
    by_ref = costs.filter(pl.col("related_ref").is_not_null()).join(
        anchors.filter(pl.col("ref").is_not_null()).rename({"ref": "related_ref"}),
        on=["account", "related_ref", "currency"], how="inner")
    rest = costs.join(by_ref.select("id"), on="id", how="anti").filter(
        pl.col("related_ref").is_null())  # a fee naming another row belongs to that row
    withdrawal = pl.col("category").fill_null("").str.contains("withdraw|transfer|payout")
    same_day = rest.join(anchors.sort("anchor").unique(["account", "date", "side"],
                                                        keep="first"),
                         on=["account", "date", "currency"], how="inner").filter(
        ((pl.col("side") == "out") & withdrawal & pl.col("kind").is_in(["payment_fee",
                                                                          "platform_fee"]))
        | ((pl.col("side") == "in") & pl.col("kind").is_in(["bank_fee", "tax"])))
    read = ["id", "anchor", "kind", "category", "role", "side", "fee", *keep]
    found = pl.concat([by_ref.select(read), same_day.select(read)]).unique("id", keep="first")
    line = (pl.when(pl.col("kind") == "platform_fee").then(pl.lit("platform_fee"))
            .when(pl.col("kind") == "tax").then(pl.lit("tax"))
            .when(pl.col("kind") == "bank_fee").then(pl.lit("bank_deductions"))
            .when((pl.col("side") == "out") & ((pl.col("role") == "platform") | withdrawal))
            .then(pl.lit("withdrawal_fee")).otherwise(pl.lit("wallet_fees")))
    return found.select(*keep, "anchor", line.alias("line"),
                        pl.col("fee").cast(pl.Decimal(38, 4)))


@dataclass
class Hop:
    out: dict
    ins: list[dict]
    rule: str
    confidence: str
    rate: Decimal | None
    rate_provider: str | None
    fees_out: dict[str, Decimal]
    fees_in: dict[str, Decimal]
    costs: dict[str, Decimal] = field(default_factory=dict)
    """Waterfall in the sending currency: HOP_COSTS lines and `arrived`, exact."""
    sent_total: Decimal = Decimal(0)
    fee_inside: bool = False
    landed: Decimal = Decimal(0)
    """What arrived, net of the receiving side's fees, in the credit's currency."""

    @property
    def in_ccy(self) -> str:
        return self.ins[0]["in_ccy"]

    def compute(self) -> None:
        sent = Decimal(self.out["sent"])
        received = sum((Decimal(i["received"]) for i in self.ins), Decimal(0))
        out_fees = sum(self.fees_out.values(), Decimal(0))
        same = self.out["out_ccy"] == self.in_ccy
        self.fee_inside = same and out_fees > 0 and sent - received == out_fees
        self.sent_total = sent if self.fee_inside else sent + out_fees
        in_fees = sum(self.fees_in.values(), Decimal(0))
        self.landed = received - in_fees
        costs = dict.fromkeys(HOP_COSTS, Decimal(0))
        for line, fee in self.fees_out.items():
            costs[line] += fee
        if same:
            for line, fee in self.fees_in.items():
                costs[line] += fee
            if not self.fee_inside:
                costs["bank_deductions"] += sent - received
            costs["arrived"] = self.landed
        else:
            rate = self.rate
            tagged = self.out.get("delivered_ccy") == self.in_ccy and self.out.get("delivered")
            if rate is None or rate == 0:  # a user link without any reference rate
                rate = (Decimal(self.out["delivered"]) if tagged else received) / sent
                self.rate, self.rate_provider = rate, "implied by the amounts"

            def conv(x: Decimal) -> Decimal:
                return (x / rate).quantize(Q)

            # the receiving side valued at the reference rate; the spread is what is left
            # of the transfer once everything that arrived or was taken on arrival is counted
            received_side = Decimal(0)
            for line, fee in self.fees_in.items():
                costs[line] += conv(fee)
                received_side += conv(fee)
            if tagged:
                deducted = conv(Decimal(self.out["delivered"]) - received)
                costs["bank_deductions"] += deducted
                received_side += deducted
            costs["arrived"] = conv(self.landed)
            costs["fx_spread"] = sent - received_side - costs["arrived"]
        self.costs = costs


@dataclass
class Chain:
    hops: list[Hop]
    currency: str
    sent: Decimal
    costs: dict[str, Decimal]
    arrived: Decimal
    possible_loss: Decimal = Decimal(0)

    @property
    def id(self) -> str:
        return self.hops[0].out["out_id"]


def chain_of(hops: list[Hop]) -> Chain:
    """Sum hop waterfalls in the first hop's sending currency: each later hop is scaled so
    that what it sent is what the previous hop delivered, valued as that hop valued it."""
    first = hops[0]
    costs = dict.fromkeys(HOP_COSTS, Decimal(0))
    for line in HOP_COSTS:
        costs[line] += first.costs[line]
    carried = first.costs["arrived"]  # value (chain currency) of what the hop delivered
    for hop in hops[1:]:
        scale = carried / hop.sent_total if hop.sent_total else Decimal(0)
        parts = {line: (hop.costs[line] * scale).quantize(Q) for line in HOP_COSTS}
        for line, value in parts.items():
            costs[line] += value
        carried = carried - sum(parts.values(), Decimal(0))
    return Chain(hops, first.out["out_ccy"], first.sent_total, costs, carried)


def link_hops(hops: list[Hop]) -> list[list[Hop]]:
    """Join hops into chains: hop B continues hop A when B leaves the account A arrived on,
    in A's arrival currency, within NEXT_HOP_DAYS, and sends exactly what A delivered (with or
    without B's own fees). Only unique continuations; everything else is a chain of one."""
    import polars as pl

    if len(hops) < 2:
        return [[h] for h in hops]
    def exact(value: Decimal) -> str:  # one spelling per amount: 1000.00 and 1E+3 agree
        return f"{Decimal(value).normalize():f}"

    # joined on the exact amount: B sends what A landed, with or without B's fees (one plan)
    ends = [i for i, h in enumerate(hops) if len({x["in_account"] for x in h.ins}) == 1]
    a = pl.LazyFrame({
        "a": ends, "account": [hops[i].ins[0]["in_account"] for i in ends],
        "in_date": [max(x["in_date"] for x in hops[i].ins) for i in ends],
        "ccy": [hops[i].in_ccy for i in ends],
        "amount": [exact(hops[i].landed) for i in ends],
    }, schema={"a": pl.Int64, "account": pl.String, "in_date": pl.Date, "ccy": pl.String,
               "amount": pl.String})
    b = pl.LazyFrame({
        "b": [i for i in range(len(hops)) for _ in (0, 1)],
        "account": [h.out["out_account"] for h in hops for _ in (0, 1)],
        "out_date": [h.out["out_date"] for h in hops for _ in (0, 1)],
        "ccy": [h.out["out_ccy"] for h in hops for _ in (0, 1)],
        "amount": [exact(x) for h in hops for x in (h.out["sent"], h.sent_total)],
    }, schema={"b": pl.Int64, "account": pl.String, "out_date": pl.Date, "ccy": pl.String,
               "amount": pl.String})
    pairs = a.join(b, on=["account", "ccy", "amount"]).filter(
        (pl.col("out_date") >= pl.col("in_date"))
        & ((pl.col("out_date") - pl.col("in_date")).dt.total_days() <= NEXT_HOP_DAYS)
    ).unique(["a", "b"]).filter((pl.col("a").count().over("a") == 1)
                                & (pl.col("b").count().over("b") == 1)).collect(
        engine="in-memory")
    nxt = dict(zip(pairs["a"].to_list(), pairs["b"].to_list(), strict=True))
    has_prev = set(nxt.values())
    chains = []
    for start in range(len(hops)):
        if start in has_prev:
            continue
        seq, cur = [hops[start]], start
        while cur in nxt and len(seq) < 10:
            cur = nxt[cur]
            seq.append(hops[cur])
        chains.append(seq)
    return chains

