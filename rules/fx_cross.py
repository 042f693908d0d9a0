"""How rules.fx chooses each need's rate among its direct and crossed answers: the direct
rate, else the first pivot whose two legs both have one; but a direct rate that is only
implied (the user's own conversions) or dated more than the chain's stale days away gives way
to a crossed one of reference rates near the day."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.fx_reference import plan_flags, rate_dtype

if TYPE_CHECKING:
    import polars as pl

ANSWER = ("rate", "provider", "detail", "rate_date")
"""A lookup's columns after date and currency."""


def _direct_only(wanted: pl.DataFrame, found: pl.DataFrame, stale_days: int
                 ) -> pl.DataFrame | None:
    """`_crossed`'s answer when every need has a direct reference rate within `stale_days`
    (then no crossed one can be better), without its plan; None when some need lacks one,
    or has only an implied or a far one (`_crossed` weighs it against the crossed rates).
    The direct asks come first, in the needs' order, and `found` is in the asks' order: when
    each need has its direct answer they are `found`'s first rows (no plan)."""
    if (found.get_column("_leg") == "direct").sum() != wanted.height:  # one answer per ask
        return None
    direct = found[["date", "currency", *ANSWER]].head(wanted.height)
    if direct.select(_second_best(stale_days).any()).item():
        return None
    return direct


def _second_best(stale_days: int, dates: tuple[str, ...] = ("rate_date",)) -> pl.Expr:
    """True for an answer a crossed one of reference rates near the day may beat: a rate the
    user's own conversions imply (valued at its own rate, a conversion would hide the
    provider's spread: the `implied` provider is for pairs no reference has), or a rate
    dated more than `stale_days` from the need's day (any of `dates`, a crossed answer's
    legs)."""
    import polars as pl

    return pl.col("provider").str.contains("implied", literal=True) | pl.any_horizontal(
        *(far(stale_days, d) for d in dates))


def far(stale_days: int, dated: str = "rate_date") -> pl.Expr:
    """True where the rate's date (`dated`) is more than `stale_days` from the need's (`date`):
    the one test of a stale rate, which a lookup ranks after every rate near the day."""
    import polars as pl

    return (pl.col("date") - pl.col(dated)).dt.total_days().abs() > stale_days


def _crossed(wanted: pl.DataFrame, found: pl.DataFrame, pivots: list[str],
             stale_days: int) -> pl.DataFrame:
    """The answer to each need (`wanted`, numbered `_n`) from its nearest rates (`found`: legs
    `direct`, and per pivot `{pivot}1` need->pivot and `{pivot}2` pivot->target): the direct
    rate, else the first pivot whose two legs both have one (their product); but a direct
    rate that is implied or far from the day (`_second_best`) gives way to a crossed one
    that is neither (USD->PHP: the ECB has EUR->USD and EUR->PHP only, and a Wise
    conversion's own USD->PHP rate, 82 days away, was preferred to that day's ECB cross)."""
    import polars as pl

    legs = found.lazy()

    def leg(name: str, suffix: str = "") -> pl.LazyFrame:
        return legs.filter(pl.col("_leg") == name).select(
            "_n", "date", *(pl.col(c).alias(c + suffix) for c in ANSWER))

    answers = [leg("direct").with_columns(_second_best(stale_days).alias("_worse"),
                                          pl.lit(0).alias("_try"))]
    for index, pivot in enumerate(pivots, start=1):
        answers.append(leg(f"{pivot}1").join(leg(f"{pivot}2", "_2").drop("date"),
                                             on="_n").select(
            "_n", (pl.col("rate") * pl.col("rate_2")).cast(rate_dtype()).alias("rate"),
            (pl.col("provider") + "×" + pl.col("provider_2")).alias("provider"),
            (pl.col("detail") + " × " + pl.col("detail_2")).alias("detail"),
            pl.min_horizontal("rate_date", "rate_date_2").alias("rate_date"),
            # the first leg's provider is `_second_best`'s "provider" (the select's input)
            (pl.col("provider_2").str.contains("implied", literal=True)
             | _second_best(stale_days, ("rate_date", "rate_date_2"))).alias("_worse"),
            pl.lit(index).alias("_try")))
    best = (pl.concat(answers, how="diagonal_relaxed").sort("_worse", "_try", "_n")
            .unique("_n", keep="first", maintain_order=True))
    return wanted.lazy().join(best, on="_n", how="left").sort("_n").select(
        "date", "currency", *ANSWER).collect(
        engine="in-memory", optimizations=plan_flags(max(wanted.height, found.height)))
