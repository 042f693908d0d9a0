"""A chunk of workers counted together: the fee rules and reconcile's matches run once per
group of workers sharing a fee schedule, not once per worker (each polars call on one
worker's ~1,000 rows is nearly all fixed cost).

The workers' rows are stacked with each id tagged by its worker (rules.worker_ids): ids of
two workers who donated the same file stay apart, joins on ids cannot pair two workers'
rows, and every join on anything else (transfer windows, conversion legs, split arrivals)
has the worker among its keys. Ids derived from an id keep the tag and hash the rest, and
within a worker every id has the same tag, so sorts that break ties on ids order a worker's
rows as counting it alone does. The tags are taken off before the rows are handed back, so
each worker's counted rows are those `worker.count_rows` gives it alone.

Workers that need reconcile's matches (a withdrawal could arrive in another currency:
reconcile.may_arrive_converted) are matched together with reconcile.pairs_and_arrivals,
whose reference rates come from one lookup for the chunk (`ChunkChain`); a worker for whom
that lookup is not sure to be its own chain's answer (no direct reference within the
staleness window, as ledger/batch/fx.py's `_sure`) asks its own chain.

Counted alone, exactly as before (`worker.count_rows`): a worker whose ledger.toml sets
[fees] or [reconcile] (a schedule or matching settings of its own); every worker of a group whose counting together raised, so the error lands on
the worker that caused it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl

    from ledger.batch.worker import Counted, Prepared
    from ledger.core.config import Config
    from rules.fx import FxChain

Item = tuple["list[pl.DataFrame]", "list[pl.DataFrame]", str, "Config"]
"""(export rows, timesheets, country, ledger.toml) of one worker."""


def count_many(items: list[Item]) -> list[Counted | BaseException]:
    """Per worker, in order: its counted rows (`worker.count_rows`'s), or the error counting
    it alone raises."""
    from ledger.batch.worker import count_rows, finish, prepare

    out: list[Counted | BaseException | None] = [None] * len(items)
    groups: dict[str, list[tuple[int, Prepared]]] = {}
    for at, (frames, sheets, country, config) in enumerate(items):
        if not together(config):
            out[at] = _alone(count_rows, frames, sheets, country, config)
            continue
        try:
            found = prepare(frames, sheets, country, config)
        except Exception as exc:
            out[at] = exc
            continue
        groups.setdefault(country if len(country) == 2 else "", []).append((at, found))
    for country, group in groups.items():
        try:
            counted = count_group(group, country)
        except Exception:
            for at, _ in group:
                out[at] = _alone(count_rows, *items[at])
            continue
        for at, found in group:
            try:
                out[at] = finish(found, counted[at])
            except Exception as exc:
                out[at] = exc
    return out  # type: ignore[return-value]


def together(config: Config) -> bool:
    """Whether the worker's counting can share its group's: no [fees] (the schedule is the
    country's) and no [reconcile] (the default matching settings). [[rules]] are applied
    to the worker's rows before (worker.prepare), [[hours]] after."""
    return not config.fees and not config.reconcile


def _alone(count: Callable[..., Counted], *args: object) -> Counted | BaseException:
    try:
        return count(*args)
    except Exception as exc:
        return exc


def count_group(group: list[tuple[int, Prepared]], country: str) -> dict[int, pl.DataFrame]:
    """Counted rows per chunk position of workers sharing a fee schedule, counted as one
    frame (tags: rules.worker_ids)."""
    import polars as pl

    from ledger import reconcile
    from ledger.batch.worker import _schedule
    from ledger.counting.pipeline import count_matched
    from rules.transfers import legs
    from rules.worker_ids import tag, untagged, worker

    schedule = _schedule(country)
    width = len(tag(0))
    stacked = pl.concat([found.rows.with_columns((pl.lit(tag(at)) + pl.col("id")).alias("id"))
                         for at, found in group], how="vertical")
    settings = reconcile.settings({})
    outs, ins = legs(stacked, settings)
    # reconcile.may_arrive_converted per worker: withdrawals and credits, in > 1 currency
    sides = pl.concat([outs.select(worker("out_id").alias("_w"), pl.col("out_ccy").alias("c"),
                                   pl.lit(True).alias("out")),
                       ins.select(worker("in_id").alias("_w"), pl.col("in_ccy").alias("c"),
                                  pl.lit(False).alias("out"))])
    matched = sides.group_by("_w").agg(
        pl.col("out").any().alias("outs"), (~pl.col("out")).any().alias("ins"),
        pl.col("c").n_unique().alias("n")).filter(
        pl.col("outs") & pl.col("ins") & (pl.col("n") > 1))["_w"].to_list()
    head = pl.col("id").str.head(width - 1)
    parts = []
    if matched:
        chains = {tag(at)[:-1]: found.chain for at, found in group}
        rows = stacked.filter(head.is_in(matched))
        pairs, arrived = reconcile.pairs_and_arrivals(rows, settings, ChunkChain(chains))
        parts.append(count_matched(rows, schedule, pairs, arrived))
    rest = stacked.filter(~head.is_in(matched)) if matched else stacked
    if not rest.is_empty():
        parts.append(count_matched(rest, schedule, None, None))
    counted = pl.concat(parts, how="vertical").with_columns(
        head.cast(pl.Int64).alias("_at"), untagged("id").alias("id"),
        untagged("related_ref").alias("related_ref"))
    split = counted.partition_by("_at", as_dict=True, include_key=False)
    return {at: split[(at,)] for at, _ in group}


class ChunkChain:
    """The reference rates reconcile's matcher compares currencies at, for a chunk's workers:
    one lookup on the chain of the references alone, and each worker's own chain
    (`Prepared.chain`) for the needs where that lookup is not sure to be its answer."""

    by_worker = True
    """rules.transfers._rates asks with each need's worker (`_w`, its tag)."""

    def __init__(self, chains: dict[str, Callable[[], FxChain]]) -> None:
        self.chains = chains

    def lookup(self, needs: pl.DataFrame, to: str) -> pl.DataFrame:
        """FxChain.lookup's columns and `_w`, per (date, currency, _w) of `needs`."""
        import polars as pl

        from ledger.batch.fx import _sure, reference_chain

        columns = ["date", "currency", "rate", "provider", "rate_date", "_w"]
        found = reference_chain().lookup(needs.select("date", "currency").unique(), to)
        joined = needs.join(found.with_columns(_sure(found)), on=["date", "currency"],
                            how="left")
        alone = sorted(joined.filter(~pl.col("_sure").fill_null(False))["_w"].unique())
        parts = [joined.filter(~pl.col("_w").is_in(alone)).select(columns)]
        for key in alone:
            own = self.chains[key]().lookup(
                needs.filter(pl.col("_w") == key).select("date", "currency"), to)
            parts.append(own.with_columns(pl.lit(key).alias("_w")).select(columns))
        return pl.concat(parts, how="vertical_relaxed")
