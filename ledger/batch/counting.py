"""A research worker's rows counted as `ledger report` counts them (`count_rows`: the fee rules,
reconcile's matches where they matter), and a chunk of workers counted together
(`count_many`): reconcile's matches run once per chunk and the fee rules once per group of
workers sharing a fee schedule (their country's), not once per worker (each polars call on
one worker's ~1,000 rows is nearly all fixed cost).

The workers' rows are stacked with each id tagged by its worker (rules.worker_ids): ids of
two workers who donated the same file stay apart, joins on ids cannot pair two workers'
rows, and every join on anything else (transfer windows, conversion legs, split arrivals)
has the worker among its keys. Ids derived from an id keep the tag and hash the rest, and
within a worker every id has the same tag, so sorts that break ties on ids order a worker's
rows as counting it alone does. The tags are taken off before the rows are handed back, so
each worker's counted rows are those `count_rows` gives it alone.

Workers that need reconcile's matches (a withdrawal could arrive in another currency:
reconcile.may_arrive_converted) are matched together, whatever their fee schedule, with
reconcile.pairs_and_arrivals, whose reference rates come from one lookup for the chunk
(`ChunkChain`); a worker for whom that lookup is not sure to be its own chain's answer (no
direct reference within the staleness window, as ledger/batch/fx.py's `_sure`) asks its own
chain.

Counted alone, exactly as before (`count_rows`): a worker whose ledger.toml sets [fees] or
[reconcile] (a schedule or matching settings of its own); where counting the chunk together
raises, each group sharing a schedule is tried, and every worker of a group that raises
too is counted alone, so the error lands on the worker that caused it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from ledger.batch.fx import cached_reference
from ledger.core.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl

    from ledger.core.config import Config
    from rules.fees import Schedule
    from rules.fx import FxChain


LOCAL_EXTRA = {"TH": "THB", "UA": "UAH", "RS": "RSD", "BR": "BRL", "GB": "GBP", "NP": "NPR",
               "GH": "GHS", "UG": "UGX", "ET": "ETB", "ZA": "ZAR", "MX": "MXN", "AR": "ARS",
               "CO": "COP", "VE": "VES", "TR": "TRY", "MA": "MAD", "TN": "TND", "RU": "RUB"}
"""Countries beyond rules.fees.LOCAL_CURRENCY (PK PKR, PH PHP, IN INR, BD BDT, NG NGN, KE KES,
ID IDR, VN VND, MY MYR, LK LKR, EG EGP, US USD); others fall back to CLDR's territory currency."""


def local_currency(country: str) -> str | None:
    from rules.fees import LOCAL_CURRENCY

    found = LOCAL_CURRENCY.get(country) or LOCAL_EXTRA.get(country)
    if found or len(country) != 2:
        return found
    try:
        from babel.numbers import get_territory_currencies

        currencies = get_territory_currencies(country)
    except Exception:  # unknown territory: babel raises several types
        return None
    return currencies[0] if currencies else None

# --- rules, loaded once per process (reference rates: batch_fx.cached_reference) ------------

@cache
def _schedule(country: str) -> Schedule:
    from rules.fees import load_schedule

    return load_schedule({"country": country} if len(country) == 2 else {})


def schedule_for(country: str, config: Config) -> Schedule:
    """The bundled schedule, with the worker's own ledger.toml [fees] if they sent one."""
    from rules.fees import load_schedule

    if config.fees:
        tree = config.tree
        return load_schedule({**tree, "country": country} if len(country) == 2 else tree,
                             where="ledger.toml")
    return _schedule(country)


# --- the worker's counted rows -------------------------------------------------------------


@dataclass
class Counted:
    """One worker's rows as `ledger report` counts them, ready for the chunk's months."""
    usd: pl.DataFrame | None
    """Income rows (not transfers) valued in USD (batch_fx.value_chunk)."""
    counted: pl.DataFrame
    """Every counted row: valued into `usd`, and (date, source) the channels of each
    month."""
    sheet: pl.DataFrame
    """Timesheet rows, with the ledger.toml [[hours]] entries."""
    country: str
    local: str | None
    has_local: bool
    """Whether local-currency figures can be given (every foreign row has a rate)."""
    first: dt.date
    last: dt.date
    rows: int
    """Canonical rows read (overlapping exports counted once)."""
    chain: Callable[[], FxChain] | None = None
    """The worker's own FX chain (its conversions, then the references), built on demand."""
    own_rates: bool = False
    """Whether the worker's rows imply rates of their own (then its own chain values them;
    else the chunk's chain of the references alone, batch_fx.value_chunk)."""



def count_rows(frames: list[pl.DataFrame], sheets: list[pl.DataFrame], country: str,
               config: Config) -> Counted:
    """One worker's parsed files counted: rows repeated across overlapping exports once (by
    id, as `ledger import`), the worker's own rules, fee rules (and reconcile where it
    matters); not yet valued (`usd` is set by the chunk's batch_fx.value_chunk). A chunk's
    workers are counted together (`count_many`) to the same rows."""
    found = prepare(frames, sheets, country, config)
    return finish(found, counted_like_report(found.rows, schedule_for(country, config), config,
                                             found.chain))


@dataclass
class Prepared:
    """One worker's rows before the fee rules: what `count_rows` and the chunk's counting
    (`count_many`) both start from."""
    rows: pl.DataFrame
    """Export rows, each id once, the worker's [[rules]] applied."""
    sheets: list[pl.DataFrame]
    country: str
    config: Config
    implied: Callable[[], pl.DataFrame]
    """The rates the worker's own conversions imply (rules.fx.implied_rates), on demand."""
    chain: Callable[[], FxChain]
    """The worker's own FX chain (its conversions, then the references), on demand."""


def prepare(frames: list[pl.DataFrame], sheets: list[pl.DataFrame], country: str,
            config: Config) -> Prepared:
    """One worker's rows deduplicated by id, its own rules applied, and its timesheet; a
    DataError where the worker has nothing to count."""
    import polars as pl

    from ledger.core import rule_apply
    from rules.fx import FxChain, implied_rates

    if not frames:
        if sheets:
            raise DataError("only timesheets were read for this worker: no transactions",
                            hint="hours count only beside a platform or bank export")
        raise DataError("no export could be read for this worker",
                        hint="see the other errors of this worker")
    rows = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical_relaxed")
    if rows.get_column("id").n_unique() != rows.height:  # a Series' count: no query planned
        rows = rows.unique("id", keep="first", maintain_order=True)
    if config.rules:
        rows = rule_apply.apply(rows, list(config.rules))
    if rows.is_empty():
        raise DataError("the worker's exports hold no transactions")

    @cache
    def implied() -> pl.DataFrame:
        return implied_rates(rows)

    @cache
    def chain() -> FxChain:  # only built where something is converted or reconciled
        built = FxChain([implied()])
        built.reference = cached_reference
        return built

    return Prepared(rows, sheets, country, config, implied, chain)


def finish(found: Prepared, counted: pl.DataFrame, implies: bool | None = None) -> Counted:
    """The worker's counted rows with what the chunk's valuation and months need. `implies`:
    whether its rows imply rates (known for a chunk at once), else `found.implied()`."""
    import polars as pl

    from importers import hours as hours_mod

    rows, sheets, config = found.rows, found.sheets, found.config
    own_rates = not counted["currency"].eq("USD").all() and (
        implies if implies is not None else not found.implied().is_empty())
    sheet = pl.concat(sheets) if len(sheets) > 1 else sheets[0] if sheets else _no_sheet()
    if config.hours:
        sheet = pl.concat([sheet, hours_mod.from_config(list(config.hours))])
    dates = rows.get_column("date")  # a Series' min and max: no query planned per worker
    return Counted(usd=None, counted=counted, sheet=sheet, country=found.country,
                   local=local_currency(found.country), has_local=False,
                   first=dates.min(), last=dates.max(), rows=rows.height,  # type: ignore[arg-type]
                   chain=found.chain, own_rates=own_rates)


@cache
def _no_sheet() -> pl.DataFrame:
    """The empty timesheet most workers have, made once per process (frames are immutable)."""
    from importers import hours as hours_mod

    return hours_mod.empty()


def counted_like_report(rows: pl.DataFrame, schedule: Schedule, config: Config,
                        chain: Callable[[], object]) -> pl.DataFrame:
    """The rows as `ledger report` counts them where it matters to the figures: where a
    withdrawal could arrive in another currency, the fee rules run with reconcile's matches
    over the worker's whole span (ledger.counting.pipeline.count), so an arrival only the bank shows
    converted is a conversion (its spread FX cost) and intermediary deductions are measured
    on reconcile's pairs. Elsewhere (about half the workers) reconcile is skipped for speed
    (~40 ms a worker) and the fee rules pair same-currency transfers themselves, which
    differs from the report only where two credits fit one withdrawal equally well."""
    from ledger import reconcile
    from ledger.counting import pipeline as counting

    if not reconcile.may_arrive_converted(rows):
        return counting.count(rows, schedule)
    span = (rows["date"].min(), rows["date"].max())
    journeys = reconcile.reconcile(rows, span, reconcile.settings(config.tree), chain(),
                                   as_of=span[1])
    return counting.count(rows, schedule, journeys)


# --- a chunk of workers counted together ----------------------------------------------------

Item = tuple["list[pl.DataFrame]", "list[pl.DataFrame]", str, "Config"]
"""(export rows, timesheets, country, ledger.toml) of one worker."""


def count_many(items: list[Item]) -> list[Counted | BaseException]:
    """Per worker, in order: its counted rows (`count_rows`'s), or the error counting it
    alone raises. The chunk's workers are counted together (`count_together`); if that
    raises, each group sharing a fee schedule is; a worker whose group raised too, or whose
    ledger.toml has settings of its own (`together`), is counted alone."""
    out: list[Counted | BaseException | None] = [None] * len(items)
    ready: list[tuple[int, Prepared]] = []
    for at, (frames, sheets, country, config) in enumerate(items):
        if not together(config):
            out[at] = _alone(count_rows, frames, sheets, country, config)
            continue
        try:
            ready.append((at, prepare(frames, sheets, country, config)))
        except Exception as exc:
            out[at] = exc
    done: dict[int, tuple[pl.DataFrame, bool | None]] = {}
    if ready:
        try:
            done = count_together(ready)
        except Exception:
            for group in _by_schedule(ready).values():
                try:
                    done.update(count_together(group))
                except Exception:  # each of its workers alone, below
                    continue
    for at, found in ready:
        if at not in done:
            out[at] = _alone(count_rows, *items[at])
            continue
        try:
            out[at] = finish(found, *done[at])
        except Exception as exc:
            out[at] = exc
    return out  # type: ignore[return-value]


def together(config: Config) -> bool:
    """Whether the worker's counting can share its chunk's: no [fees] (the schedule is the
    country's) and no [reconcile] (the default matching settings). [[rules]] are applied
    to the worker's rows before (`prepare`), [[hours]] after (`finish`)."""
    return not config.fees and not config.reconcile


def _alone(count: Callable[..., Counted], *args: object) -> Counted | BaseException:
    try:
        return count(*args)
    except Exception as exc:
        return exc


def _by_schedule(ready: list[tuple[int, Prepared]]) -> dict[str, list[tuple[int, Prepared]]]:
    """Workers by the fee schedule they count with (`_schedule`: their country's)."""
    groups: dict[str, list[tuple[int, Prepared]]] = {}
    for at, found in ready:
        groups.setdefault(found.country if len(found.country) == 2 else "", []).append(
            (at, found))
    return groups


def count_together(ready: list[tuple[int, Prepared]]
                   ) -> dict[int, tuple[pl.DataFrame, bool | None]]:
    """Per chunk position: the worker's counted rows, and whether its rows imply rates
    (None: not known here). One frame for all (tags: rules.worker_ids): reconcile's matches
    once, the fee rules once per fee schedule."""
    import polars as pl

    from ledger import reconcile
    from ledger.counting.pipeline import count_matched
    from rules.transfers import legs
    from rules.worker_ids import tag, untagged, worker

    width = len(tag(0))
    head = pl.col("id").str.head(width - 1)
    # the tags in one query (not a query per worker: each is nearly all fixed cost)
    stacked = pl.concat([found.rows for _, found in ready], how="vertical")
    tags = pl.DataFrame({"t": [tag(at) for at, _ in ready],
                         "n": [found.rows.height for _, found in ready]},
                        schema={"t": pl.String, "n": pl.Int64}).select(
        pl.col("t").repeat_by("n").explode().drop_nulls())["t"]
    stacked = stacked.with_columns((tags + stacked.get_column("id")).alias("id"))
    spans, start = {}, 0
    for at, found in ready:
        spans[tag(at)[:-1]] = (start, found.rows.height)
        start += found.rows.height

    def rows_of(chosen: list[str]) -> pl.DataFrame:
        """The stacked rows of the workers tagged `chosen`, in stack order: slices (each
        worker's rows are contiguous), not a filter copying the chunk's every column."""
        kept = sorted(spans[t] for t in set(chosen) if t in spans)
        if len(kept) == len(spans):
            return stacked
        return pl.concat([stacked.slice(*span) for span in kept], rechunk=False) if kept \
            else stacked.clear()

    settings = reconcile.settings({})
    outs, ins = legs(stacked, settings)
    # reconcile.may_arrive_converted per worker: withdrawals and credits, in > 1 currency
    sides = pl.concat([outs.select(worker("out_id").alias("_w"), pl.col("out_ccy").alias("c"),
                                   pl.lit(True).alias("out")),
                       ins.select(worker("in_id").alias("_w"), pl.col("in_ccy").alias("c"),
                                  pl.lit(False).alias("out"))])
    matched = set(sides.group_by("_w").agg(
        pl.col("out").any().alias("outs"), (~pl.col("out")).any().alias("ins"),
        pl.col("c").n_unique().alias("n")).filter(
        pl.col("outs") & pl.col("ins") & (pl.col("n") > 1))["_w"])
    pairs = arrived = None
    if matched:
        chains = {tag(at)[:-1]: found.chain for at, found in ready}
        pairs, arrived = reconcile.pairs_and_arrivals(
            rows_of(list(matched)), settings, ChunkChain(chains))
    parts = []
    for country, group in _by_schedule(ready).items():
        schedule = _schedule(country)
        tags = [tag(at)[:-1] for at, _ in group]
        mine = [t for t in tags if t in matched]
        if mine:
            parts.append(count_matched(rows_of(mine), schedule, pairs, arrived))
        if len(mine) < len(tags):
            rest = [t for t in tags if t not in matched]
            parts.append(count_matched(rows_of(rest), schedule, None, None))
    counted = pl.concat(parts, how="vertical").with_columns(head.cast(pl.Int64).alias("_at"))
    # a worker no rule derived a row for keeps its rows as they were (counting it alone
    # returns them unsorted); the others come back sorted by date (stable), as alone
    derived = set(counted.select(pl.col("_at").filter(~pl.col("id").is_in(
        stacked["id"].implode())))["_at"])
    split = counted.with_columns(untagged("id").alias("id"),
                                 untagged("related_ref").alias("related_ref")).partition_by(
        "_at", as_dict=True, include_key=False)
    implies = _implying(stacked, width)
    return {at: (split[(at,)] if at in derived or split[(at,)].height != found.rows.height
                 else found.rows, None if implies is None else at in implies)
            for at, found in ready}


def _implying(stacked: pl.DataFrame, width: int) -> set[int] | None:
    """Chunk positions of the workers whose rows imply rates (rules.fx.implied_rates is not
    empty), from one call over the stacked rows: with each account tagged too, no rate of
    one worker merges with another's, and each rate's `detail` starts with its account."""
    import polars as pl

    from rules.fx import implied_rates

    tagged = stacked.with_columns(
        (pl.col("id").str.head(width) + pl.col("account")).alias("account"))
    found = implied_rates(tagged)["detail"].str.head(width - 1).unique().to_list()
    if None in found:  # a detail without its account: ask each worker's own rows
        return None
    return {int(at) for at in found}


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
