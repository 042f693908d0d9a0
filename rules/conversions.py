"""Conversions as the rows show them: the one rule that pairs a conversion's two legs (rules.fx's
implied rates, rules.fees' lone legs and the journals' conversion pairs all use it).

What the other side of a conversion was is a column of the row (`counter_amount`,
`counter_currency`, `fee_included`: ledger/core/schema.py), set by the importers; the tags
`[delivered 278500.00 PKR]`, `[sent 100.00 USD]` and `[fee 6.00 USD included]` stay in
descriptions for people only and are never parsed back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


def conversion_pairs(rows: pl.DataFrame | pl.LazyFrame, key: str = "id") -> pl.DataFrame:
    """`conversion_pairs_plan` collected (one collect)."""
    return conversion_pairs_plan(rows, key).collect(engine="in-memory")


def conversion_pairs_plan(rows: pl.DataFrame | pl.LazyFrame, key: str = "id") -> pl.LazyFrame:
    """The conversions among `rows`' `fx` legs, as `out` and `in`: the `key` of the leg that
    left and of the leg that arrived. The one rule every caller pairs by (rules.fx's implied
    rates, rules.fees' lone legs, ledger.journal's conversion transactions): two legs of one
    account on one date (and one worker: rules.worker_ids), one out and one in, in different
    currencies, that either are the only two legs sharing a related_ref (PayPal, Wise) or
    point at each other's ref (Payoneer: out.related_ref = in.ref and in.related_ref =
    out.ref). Each leg is in at most one pair. A plan (columns out, in)."""
    import polars as pl

    from rules.worker_ids import worker

    legs = rows.lazy()
    tagged = worker("id") if "id" in legs.collect_schema().names() else pl.lit("")
    legs = legs.filter(pl.col("kind") == "fx").select(
        pl.col(key).alias("_key"), tagged.alias("_w"), "account", "date", "ref",
        "related_ref", "amount", "currency")
    by = ["_w", "account", "date", "related_ref"]
    # the only two legs of a related_ref: one group each, one leg out and one in
    out, into = pl.col("amount") < 0, pl.col("amount") > 0
    grouped = legs.filter(pl.col("related_ref").is_not_null()).group_by(by).agg(
        pl.len().alias("_n"), out.sum().alias("_outs"), into.sum().alias("_ins"),
        pl.col("_key").filter(out).first().alias("out"),
        pl.col("_key").filter(into).first().alias("in"),
        pl.col("currency").filter(out).first().alias("_from"),
        pl.col("currency").filter(into).first().alias("_to")).filter(
        (pl.col("_n") == 2) & (pl.col("_outs") == 1) & (pl.col("_ins") == 1)
        & (pl.col("_from") != pl.col("_to"))).select("out", "in").sort("out")
    paired = pl.concat([grouped.select(pl.col("out").alias("_key")),
                        grouped.select(pl.col("in").alias("_key"))])
    rest = legs.join(paired, on="_key", how="anti").filter(
        pl.col("ref").is_not_null() & pl.col("related_ref").is_not_null())
    crossed = rest.filter(pl.col("amount") < 0).join(
        rest.filter(pl.col("amount") > 0), left_on=["_w", "account", "date", "related_ref", "ref"],
        right_on=["_w", "account", "date", "ref", "related_ref"], suffix="_in").filter(
        pl.col("currency") != pl.col("currency_in")).select(
        pl.col("_key").alias("out"), pl.col("_key_in").alias("in")).sort("out", "in").unique(
        "out", keep="first", maintain_order=True).unique("in", keep="first",
                                                           maintain_order=True)
    return pl.concat([grouped, crossed])  # a plan: callers join it on without a collect
