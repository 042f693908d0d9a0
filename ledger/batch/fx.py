"""A chunk of workers' rows valued in USD and in their local currency, through rules.fx's chain.

`ledger batch` values rows as `ledger report` does (FxChain.convert: a worker's own
conversions, then the bundled offline references; never the network). The chunk's rows
are stacked with the worker column (`AT`) and valued by ONE `FxChain.lookup` on a chain of the
references alone and one join, not one chain and one convert per worker. That is each
worker's own chain's answer wherever the worker has no conversions of its own, and, for one
that has, wherever the reference picked is direct and within the staleness window (`_sure`:
the chain ranks a worker's own rates below every reference). Any other worker, and one
whose rows the references cannot value, goes through its own chain's `convert`, which also
raises the error naming its row.

`cached_reference` serves every chain of the process (each worker's own too) from one
cache of each currency's whole bundled history.

Local-currency figures (`gross_local`, `net_local`) take each row's USD value at the
references' USD->local rate (`in_local`: one lookup per local currency and chunk).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from ledger.batch.counting import Counted
    from rules.fx import FxChain

HISTORY = (dt.date(2000, 1, 1), dt.date(2030, 12, 31))
"""The span of bundled reference rates loaded once per process and currency."""
AT = "_at"
"""The worker column of the stacked rows: the worker's position in `value_chunk`'s items."""
VALUED = ["date", "kind", "amount", "currency", "counterparty", "hours"]
"""Columns of a worker's counted rows that the chunk's months need beside `value`."""


def cached_reference(currencies: set[str], start: dt.date, end: dt.date) -> pl.DataFrame:
    """rules.fx_reference.bundled_reference from a per-process cache of each currency's whole
    history; where a currency has no rate in [start, end] (data past the bundled history),
    the nearest few rates outside it, which the chain then uses as stale."""
    import polars as pl

    from rules.fx_reference import _table

    frames = [_table()]
    for currency in sorted(currencies):
        table = history(currency)
        if table.is_empty():
            continue
        inside = table.filter(pl.col("date").is_between(start, end))
        if inside.is_empty():
            before = table.filter(pl.col("date") < start).sort("date").tail(5)
            inside = before if before.height else table.sort("date").head(5)
        frames.append(inside)
    return pl.concat(frames, how="vertical_relaxed").unique(maintain_order=True)


@cache
def history(currency: str) -> pl.DataFrame:
    """Every bundled reference rate of a currency; an ECB currency's also crossed to USD
    through EUR (rules.fx crosses USD-bound lookups through no pivot but USD itself, so
    INR->USD would find none from EUR->INR and EUR->USD alone)."""
    import polars as pl

    from rules.fx_reference import bundled_reference, rate_dtype

    table = bundled_reference({currency}, *HISTORY)
    if currency in ("USD", "EUR"):
        return table
    per_eur = table.filter((pl.col("from") == "EUR") & (pl.col("to") == currency))
    if per_eur.is_empty():
        return table
    usd = history("USD").filter((pl.col("from") == "EUR") & (pl.col("to") == "USD"))
    crossed = per_eur.join(usd.select("date", pl.col("rate").alias("_usd")), on="date").select(
        "date", pl.lit(currency).alias("from"), pl.lit("USD").alias("to"),
        (pl.col("_usd") / pl.col("rate")).cast(rate_dtype()).alias("rate"), "provider",
        pl.lit("ECB reference rates, crossed through EUR").alias("detail"))
    return pl.concat([table, crossed], how="vertical_relaxed")


def reference_chain() -> FxChain:
    """A chain of the bundled references only (`cached_reference`: a per-process cache of
    each currency's history), as a worker without conversions of its own has."""
    from rules.fx import FxChain

    chain = FxChain([])
    chain.reference = cached_reference
    return chain


def value_chunk(items: list[Counted]) -> dict[int, BaseException]:
    """Set `usd` (income rows valued in USD) and `has_local` on each counted worker; the
    workers that failed (no rate for one of their rows), by position in `items`."""
    import polars as pl

    from ledger.reports.report import NOT_INCOME
    from rules.fx_reference import rate_dtype

    failed: dict[int, BaseException] = {}
    usd: dict[int, pl.DataFrame] = {}
    shared: list[int] = []
    income = ~pl.col("kind").is_in(NOT_INCOME)
    for at, item in enumerate(items):
        rows = item.counted
        if rows["currency"].eq("USD").all():  # nothing to convert (FxChain.convert's shortcut)
            usd[at] = rows.lazy().with_columns(pl.col("amount").cast(rate_dtype()).alias(
                "value")).filter(income).collect(engine="in-memory")
        else:
            shared.append(at)
    if shared:
        stacked = pl.concat([items[at].counted.lazy().select(VALUED).with_columns(
            pl.lit(at, dtype=pl.Int64).alias(AT)) for at in shared],
            how="vertical_relaxed").collect(engine="in-memory")  # one query for the chunk
        rates = reference_chain().lookup(stacked.filter(pl.col("currency") != "USD").select(
            "date", "currency").unique(), "USD")
        stacked = stacked.join(rates.select("date", "currency", "rate", _sure(rates)),
                               on=["date", "currency"], how="left", maintain_order="left")
        own = [at for at in shared if items[at].own_rates]
        foreign = stacked.filter(pl.col("currency") != "USD")
        alone = set(foreign.filter(pl.col("rate").is_null() | (
            pl.col(AT).is_in(own) & ~pl.col("_sure").fill_null(False)))[AT].unique().to_list())
        stacked = stacked.filter(~pl.col(AT).is_in(list(alone))).with_columns(
            pl.when(pl.col("currency") == "USD").then(pl.col("amount").cast(rate_dtype()))
            .otherwise(pl.col("amount").cast(rate_dtype()) * pl.col("rate")).alias("value")
        ).drop("rate", "_sure")
        parts = stacked.filter(income).partition_by(AT, as_dict=True, include_key=False)
        for at in shared:
            if at in alone:  # its own chain, whose convert names a row without a rate
                try:
                    usd[at] = items[at].chain().convert(items[at].counted, "USD",
                                                        where="worker").rows.filter(income)
                except Exception as exc:
                    failed[at] = exc
            else:
                usd[at] = parts.get((at,), stacked.clear().drop(AT))
    for at, rows in usd.items():
        item = items[at]
        item.usd = rows
        local = item.local
        item.has_local = bool(local) and (
            local == "USD" or has_rates(local)
            or item.usd.filter(pl.col("currency") != local).is_empty())
    return failed


def _sure(rates: pl.DataFrame) -> pl.Expr:
    """Whether a reference rate is one a worker's own chain would pick too: a direct rate
    (not crossed through a pivot) within the chain's staleness window. FxChain ranks a
    worker's own conversions (`implied`) below every reference and tries all providers within
    the window before any older rate, so only where no reference is that close (or only a
    crossed one) can the worker's own rates change the pick."""
    import polars as pl

    from rules.fx import STALE_DAYS
    from rules.fx_cross import far

    return (~far(STALE_DAYS) & ~pl.col("provider").str.contains("×", literal=True)
            ).alias("_sure")


@cache
def has_rates(local: str) -> bool:
    """Whether the references hold any USD->local rate (then every date finds the nearest)."""
    from ledger.core.errors import DataError

    try:
        reference_chain().mid(dt.date(2020, 1, 1), "USD", local, where="references")
    except DataError:
        return False
    return True


def in_local(usd: pl.DataFrame, local: str, chain: FxChain | None = None) -> pl.DataFrame:
    """`value` in the local currency: a row in it as it is, any other through its USD value at
    the references' USD->local rate nearest its date (`FxChain.lookup`; a worker's own
    conversions rank below the references, so the chain of the references alone gives the
    rate the worker's own chain would). A worker gets local figures only where every foreign
    row can be valued (`value_chunk`'s has_local)."""
    import polars as pl

    from rules.fx_reference import rate_dtype

    foreign = usd.filter(pl.col("currency") != local)
    if foreign.is_empty() or not has_rates(local):
        return usd.with_columns(pl.col("amount").cast(rate_dtype()).alias("value"))
    needs = foreign.select("date", pl.lit("USD").alias("currency")).unique()
    found = (chain or reference_chain()).lookup(needs, local).select(
        "date", pl.col("rate").alias("_rate"))
    return usd.join(found, on="date", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("currency") == local).then(pl.col("amount").cast(rate_dtype()))
        .otherwise((pl.col("value") * pl.col("_rate")).cast(rate_dtype())).alias("value")
    ).drop("_rate")
