"""The `implied` provider (rules.fx): the rates the user's own conversions imply, used only
where no reference rate has the pair (a conversion valued at its own rate would hide the
provider's spread): the two legs of one conversion, and transfers out that delivered another
currency (a USD withdrawal credited in PKR: `counter_amount` / `counter_currency`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.fx_reference import plan_flags, rate_dtype

if TYPE_CHECKING:
    import polars as pl


def implied_rates(rows: pl.DataFrame) -> pl.DataFrame:
    """Rates from the user's own conversions: `fx` legs of one account sharing a related_ref
    (PayPal, Wise) or pointing at each other's ref (Payoneer) on one date, one out and one
    in, in different currencies; and transfers out that delivered another currency (a
    Payoneer or Wise withdrawal in USD credited to the bank in PKR: counter_amount 278500.00,
    counter_currency PKR; see rules.fees.split_conversions)."""
    import polars as pl

    from rules.conversions import conversion_pairs_plan

    # one plan, one collect
    delivered = _delivered_rates(rows)
    if not rows.get_column("kind").eq("fx").any():
        return delivered.collect(engine="in-memory", optimizations=plan_flags(rows.height))
    legs = rows.lazy().with_row_index("_row").filter(pl.col("kind") == "fx")
    found = conversion_pairs_plan(legs, key="_row")
    pairs = found.join(legs.select(
        pl.col("_row").alias("out"), "account", "date", "related_ref",
        pl.col("currency").alias("from"), (-pl.col("amount")).alias("sent"),
        pl.col("line").alias("line_from")), on="out", maintain_order="left").join(legs.select(
            pl.col("_row").alias("in"), pl.col("currency").alias("to"),
            pl.col("amount").alias("got"), pl.col("line").alias("line_to")), on="in",
        maintain_order="left").unique(["account", "date", "related_ref", "from", "to"],
                                      maintain_order=True)
    implied = pairs.select(
        "date", "from", "to",
        (pl.col("got").cast(rate_dtype()) / pl.col("sent").cast(rate_dtype())).alias("rate"),
        pl.lit("implied").alias("provider"),
        pl.concat_str([pl.col("account"), pl.lit(" conversion "), pl.col("related_ref"),
                       pl.lit(" (lines "), pl.col("line_from").cast(pl.String), pl.lit(","),
                       pl.col("line_to").cast(pl.String), pl.lit(")")]).alias("detail"),
    )
    return pl.concat([implied, delivered], how="vertical_relaxed").unique(
        ["date", "from", "to", "rate"], maintain_order=True).collect(
        engine="in-memory", optimizations=plan_flags(rows.height))


def _delivered_rates(rows: pl.DataFrame) -> pl.LazyFrame:
    """Rates implied by transfers out (and conversion legs) that delivered another currency
    (`counter_amount` in `counter_currency`): delivered / sent, where sent leaves out a fee
    the row includes (`fee_included`). A plan; its columns are `_table`'s."""
    import polars as pl

    moved = rows.lazy().filter(pl.col("kind").is_in(["transfer", "fx"]) & (pl.col("amount") < 0)
                               & pl.col("counter_currency").is_not_null())
    moved = moved.select(
        "date", pl.col("currency").alias("from"), pl.col("counter_currency").alias("to"),
        pl.col("counter_amount").alias("got"),
        (-pl.col("amount") - pl.col("fee_included").fill_null(0)).alias("sent"), "account",
        "line").filter(
        (pl.col("to") != pl.col("from")) & (pl.col("got") > 0) & (pl.col("sent") > 0))
    return moved.select(
        "date", "from", "to",
        (pl.col("got").cast(rate_dtype()) / pl.col("sent").cast(rate_dtype())).alias("rate"),
        pl.lit("implied").alias("provider"),
        pl.concat_str([pl.col("account"), pl.lit(" debit delivering "), pl.col("to"),
                       pl.lit(" (line "), pl.col("line").cast(pl.String), pl.lit(")")]
                      ).alias("detail"))
