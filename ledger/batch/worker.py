"""Workers of a research batch, in memory: exports -> rows -> rules -> FX -> worker-months.

Runs in a pool process (`process_many(tasks)`, a chunk of workers), so it gets only what it
needs: each worker's pseudonym, country and file paths with their file pseudonyms (never the
key). Each file goes through the same importers as `ledger import`: the chunk's files of one
format at once (importers.registry.rows_many: the same rows as registry.parse gives each), a
file that fails there on its own (registry.parse, timesheets through importers.hours); the rows
through the same fee rules and reconcile matches (report.apply_journeys) as `ledger report`,
each worker alone; then the chunk's rows are valued in USD together through the same FX chain
(ledger/batch/fx.py: the worker's own conversions, then the bundled offline references; never
the network), the chunk's months computed at once, grouped by worker (ledger/batch/months.py),
and each worker gets one small frame: one row per month of its window, in the panel's columns
(ledger/batch/columns.py), with the livelihood trajectory. A file that cannot be read becomes
an error row and the rest goes on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


@dataclass(frozen=True)
class WorkerTask:
    pseudonym: str
    country: str
    files: tuple[tuple[str, str], ...]
    """(path, file pseudonym) of each file to read."""
    settings: dict[str, Any]
    """Trajectory settings (validated)."""
    config: tuple[str, str] | None = None
    """(path, file pseudonym) of the worker's ledger.toml, if any."""
    profiles: str | None = None
    """The worker's bank profiles folder, if any."""


@dataclass
class WorkerResult:
    pseudonym: str
    panel: pl.DataFrame | None
    errors: list[tuple[str, str, int | None, str, str]] = field(default_factory=list)
    """(file pseudonym, real path or "" for the worker as a whole, line, error class code,
    exception type for an unexpected error) per problem: never an exception's text
    (ledger/batch/errors.py)."""
    rows: int = 0
    files_read: int = 0


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


def process(task: WorkerTask) -> WorkerResult:
    """The worker's panel rows, or None with error rows; never raises for bad data."""
    return process_many([task])[0]


def process_many(tasks: list[WorkerTask]) -> list[WorkerResult]:
    """Results of a chunk of workers, in the order given: the unit of work the batch engine
    schedules. Each worker's files are read and counted on their own (fee rules, reconcile:
    `count_rows`); the chunk's rows are then valued in USD together (ledger/batch/fx.py: one
    FX lookup for the workers without conversions of their own), and the months, hours,
    benchmarks and trajectories of the whole chunk computed at once, grouped by worker
    (ledger/batch/months.py). Never raises for bad data."""
    from ledger.batch.fx import value_chunk

    from ledger.batch.chunk_count import count_many

    results: list[WorkerResult] = []
    counted: list[tuple[int, Counted]] = []
    parsed = read_many(tasks)
    gathered = []
    for at, task in enumerate(tasks):
        result, frames, sheets, config = _gather(task, parsed[at])
        results.append(result)
        gathered.append((frames, sheets, task.country, config))
    for at, found in enumerate(count_many(gathered)):
        if isinstance(found, BaseException):
            _fail(results[at], "", "", found)
        else:
            counted.append((at, found))
    failed = value_chunk([c for _, c in counted])
    ready: dict[str, list[tuple[int, Counted]]] = {}
    settings: dict[str, dict[str, Any]] = {}
    for at, (index, found) in enumerate(counted):
        if at in failed:
            _fail(results[index], "", "", failed[at])
            continue
        task = tasks[index]
        key = repr(sorted(task.settings.items()))
        settings[key] = task.settings
        ready.setdefault(key, []).append((index, found))
    for key, group in ready.items():
        _months_into(results, group, settings[key])
    return results


def _fail(result: WorkerResult, token: str, path: str, exc: BaseException) -> None:
    from ledger.batch.errors import UNEXPECTED, classify

    error_class, line = classify(exc)
    detail = type(exc).__name__ if error_class is UNEXPECTED else ""
    result.errors.append((token, path, line, error_class.code, detail))


def read_many(tasks: list[WorkerTask]) -> list[list[pl.DataFrame | None]]:
    """Per task, per file: its canonical rows, read with the chunk's other files of the same
    format at once (importers.registry.rows_many: per-file fixed costs dominate small
    exports); None where the file is read alone (`read_file`: an error, a timesheet, a worker
    with bank profiles of their own)."""
    from importers import registry
    from importers.base import ImportOptions

    found: list[list[pl.DataFrame | None]] = [[None] * len(t.files) for t in tasks]
    where: list[tuple[int, int]] = []
    raws = []
    for at, task in enumerate(tasks):
        if task.profiles:
            continue
        for index, (path, _) in enumerate(task.files):
            try:
                raws.append(registry.read(Path(path)))
            except Exception:  # read_file reports it
                continue
            where.append((at, index))
    for (at, index), rows in zip(where, registry.rows_many(raws, ImportOptions()),
                                 strict=True):
        if not isinstance(rows, BaseException):
            found[at][index] = rows
    return found


def _gather(task: WorkerTask, parsed: list[pl.DataFrame | None] | None = None
            ) -> tuple[WorkerResult, list[pl.DataFrame], list[pl.DataFrame], Config]:
    """The worker's result so far (errors of its files and ledger.toml), its export rows,
    timesheets and settings: what counting takes."""
    from ledger.core.config import Config

    result = WorkerResult(task.pseudonym, None)
    config = Config()
    if task.config:
        try:
            config = read_config(Path(task.config[0]))
        except Exception as exc:
            _fail(result, task.config[1], task.config[0], exc)
    frames, sheets = [], []
    profiles = [Path(task.profiles)] if task.profiles else []
    for at, (path, token) in enumerate(task.files):
        if parsed is not None and parsed[at] is not None:
            result.files_read += 1
            frames.append(parsed[at])
            continue
        try:
            kind, frame = read_file(Path(path), profiles)
        except Exception as exc:
            _fail(result, token, path, exc)
            continue
        result.files_read += 1
        (frames if kind == "rows" else sheets).append(frame)
    return result, frames, sheets, config


def _months_into(results: list[WorkerResult], group: list[tuple[int, Counted]],
                 settings: dict[str, Any]) -> None:
    """Set the panel and rows of each worker of the group from one pass over the group; if
    that pass fails, worker by worker, so the error lands on the worker that caused it."""
    from ledger.batch.months import W

    try:
        panel = chunk_months([(i, c) for i, c in group], settings)
    except Exception as exc:
        if len(group) > 1:
            for item in group:
                _months_into(results, [item], settings)
        else:
            _fail(results[group[0][0]], "", "", exc)
        return
    parts = panel.partition_by(W, as_dict=True, include_key=False)
    for index, counted in group:
        results[index].panel = parts[(index,)]
        results[index].rows = counted.rows


def read_config(path: Path) -> Config:
    """A donated folder's ledger.toml read and checked as `ledger` checks a user's
    (ledger.core.config.load, then the owners of what the batch uses: [reconcile], [fees]).
    Any mistake is one `invalid ledger.toml` error, at its line where the check knows it;
    the message quotes nothing from the file (the batch publishes only its class), and the
    worker is counted without the file (the defaults)."""
    from ledger import reconcile
    from ledger.core import config
    from ledger.core.errors import LedgerError
    from rules.fees import load_schedule

    try:
        settings = config.load(path)
        reconcile.settings(settings.tree, "ledger.toml")
        if settings.fees:
            load_schedule(settings.tree, where="ledger.toml")
    except (LedgerError, OSError) as exc:
        line = exc.line if isinstance(exc, LedgerError) else None
        raise DataError("invalid ledger.toml", path=path, line=line,
                        hint="fix it as `ledger report` asks, or remove it") from None
    return settings


def read_file(path: Path, profiles: list[Path]) -> tuple[str, pl.DataFrame]:
    """("rows", canonical rows) for an export; ("hours", timesheet rows) for a timesheet."""
    from importers import hours, registry
    from importers.base import ImportOptions

    raw = registry.read(path)  # its head is split once for all the formats asking
    options = ImportOptions()
    try:
        return "rows", registry.parse(raw, options, profile_dirs=profiles).rows
    except DataError as exc:
        if not exc.message.startswith("unknown layout"):
            raise
        try:
            hours.detect(raw)
        except DataError:
            raise exc from None
        return "hours", hours.parse(raw, options)[0]


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


USD_COLUMNS = ["date", "kind", "amount", "currency", "value", "counterparty", "hours"]
SHEET_COLUMNS = ["date", "client", "kind", "hours", "origin"]


def chunk_months(counted: list[tuple[int, Counted]], settings: dict[str, Any]
                 ) -> pl.DataFrame:
    """Panel rows (pseudonym empty, worker index in batch_months.W) of counted workers."""
    from ledger.batch import months as bm

    index = [i for i, _ in counted]
    items = [c for _, c in counted]
    workers = bm.workers_frame([(i, c.country, c.local, c.has_local, c.first, c.last)
                                for i, c in counted])
    return bm.panel_rows(workers, bm.tagged([c.usd for c in items], index, USD_COLUMNS),
                         bm.tagged([c.counted for c in items], index, ["date", "source"]),
                         bm.tagged([c.sheet for c in items], index, SHEET_COLUMNS), settings)


def worker_months(frames: list[pl.DataFrame], sheets: list[pl.DataFrame], country: str,
                  settings: dict[str, Any], config: Config | None = None
                  ) -> tuple[pl.DataFrame | None, int]:
    """(panel rows without the pseudonym, canonical rows read) for one worker's parsed files."""
    from ledger.batch.months import W
    from ledger.core.config import Config

    counted = count_worker(frames, sheets, country, config or Config())
    return chunk_months([(0, counted)], settings).drop(W), counted.rows


def count_worker(frames: list[pl.DataFrame], sheets: list[pl.DataFrame], country: str,
                 config: Config) -> Counted:
    """One worker's parsed files counted (`count_rows`) and valued in USD (one worker's
    `batch_fx.value_chunk`)."""
    from ledger.batch.fx import value_chunk

    counted = count_rows(frames, sheets, country, config)
    failed = value_chunk([counted])
    if failed:
        raise failed[0]
    return counted


def count_rows(frames: list[pl.DataFrame], sheets: list[pl.DataFrame], country: str,
               config: Config) -> Counted:
    """One worker's parsed files counted: rows repeated across overlapping exports once (by
    id, as `ledger import`), the worker's own rules, fee rules (and reconcile where it
    matters); not yet valued (`usd` is set by the chunk's batch_fx.value_chunk). A chunk's
    workers are counted together (ledger/batch/chunk_count.py) to the same rows."""
    found = prepare(frames, sheets, country, config)
    return finish(found, counted_like_report(found.rows, schedule_for(country, config), config,
                                             found.chain))


@dataclass
class Prepared:
    """One worker's rows before the fee rules: what `count_rows` and the chunk's counting
    (ledger/batch/chunk_count.py) both start from."""
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

    from ledger.core import user_rules
    from rules.fx import FxChain, implied_rates

    if not frames:
        if sheets:
            raise DataError("only timesheets were read for this worker: no transactions",
                            hint="hours count only beside a platform or bank export")
        raise DataError("no export could be read for this worker",
                        hint="see the other errors of this worker")
    rows = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical_relaxed")
    rows = rows.unique("id", keep="first", maintain_order=True)
    if config.rules:
        rows = user_rules.apply(rows, list(config.rules))
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


def finish(found: Prepared, counted: pl.DataFrame) -> Counted:
    """The worker's counted rows with what the chunk's valuation and months need."""
    import polars as pl

    from importers import hours as hours_mod

    rows, sheets, config = found.rows, found.sheets, found.config
    own_rates = not counted["currency"].eq("USD").all() and not found.implied().is_empty()
    sheet = pl.concat(sheets) if len(sheets) > 1 else sheets[0] if sheets else hours_mod.empty()
    if config.hours:
        sheet = pl.concat([sheet, hours_mod.from_config(list(config.hours))])
    dates = rows.select(pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
    return Counted(usd=None, counted=counted, sheet=sheet, country=found.country,
                   local=local_currency(found.country), has_local=False,
                   first=dates["first"][0], last=dates["last"][0], rows=rows.height,
                   chain=found.chain, own_rates=own_rates)


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
