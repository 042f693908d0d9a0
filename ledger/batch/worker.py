"""Workers of a research batch, in memory: exports -> rows -> rules -> FX -> worker-months.

Runs in a pool process (`process_many(tasks)`, a chunk of workers), so it gets only what it
needs: each worker's pseudonym, country and file paths with their file pseudonyms (never the
key). Each file goes through the same importers as `ledger import`: the chunk's files of one
format at once (importers.registry.rows_many: the same rows as registry.parse gives each), a
file that fails there on its own (registry.parse, timesheets through importers.hours). The
rows go through the same fee rules and reconcile matches as `ledger report`, the chunk's
workers together, once per group sharing a fee schedule (ledger/batch/counting.py: each
worker gets exactly the rows counting it alone gives; a worker with its own [fees] or
[reconcile] is counted alone); then the chunk's rows are valued in USD together through the
same FX chain (ledger/batch/fx.py: the worker's own conversions, then the bundled offline
references; never the network), the chunk's months computed at once, grouped by worker
(ledger/batch/months.py), and each worker gets one small frame: one row per month of its
window, in the panel's columns (ledger/batch/columns.py), with the livelihood trajectory. A
file that cannot be read becomes an error row and the rest goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.batch.counting import Counted, count_rows
from ledger.core.errors import DataError

if TYPE_CHECKING:

    import polars as pl

    from importers.base import ImportOptions
    from importers.raw_files import RawFile
    from ledger.core.config import Config

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
    date_orders: tuple[str | None, ...] = ()
    """Per file of `files` (or none at all): "dmy" or "mdy", how to read its numeric dates
    where they leave the order open (the manifest's date_order, else --date-order)."""


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

def process(task: WorkerTask) -> WorkerResult:
    """The worker's panel rows, or None with error rows; never raises for bad data."""
    return process_many([task])[0]


def process_many(tasks: list[WorkerTask]) -> list[WorkerResult]:
    """Results of a chunk of workers, in the order given: the unit of work the batch engine
    schedules. The chunk's files are read by format (`read_many`) and its workers counted
    together (ledger/batch/counting.py: `count_many`, each worker as `count_rows` counts it
    alone); the chunk's rows are then valued in USD together (ledger/batch/fx.py: one
    FX lookup for the workers without conversions of their own), and the months, hours,
    benchmarks and trajectories of the whole chunk computed at once, grouped by worker
    (ledger/batch/months.py). Never raises for bad data."""
    from ledger.batch.counting import count_many
    from ledger.batch.fx import value_chunk

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
    from ledger.batch.reading import tables_reading

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
    with tables_reading():  # a format's files' tables at once (ledger/batch/reading.py)
        parsed = registry.rows_many(raws, ImportOptions())
    for (at, index), rows in zip(where, parsed, strict=True):
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
        order = task.date_orders[at] if task.date_orders else None
        try:
            kind, frame = read_file(Path(path), profiles, order)
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


def read_file(path: Path, profiles: list[Path], date_order: str | None = None
              ) -> tuple[str, pl.DataFrame]:
    """("rows", canonical rows) for an export; ("hours", timesheet rows) for a timesheet.
    `date_order`: read as `ledger import --date-order` reads, but only where the file's own
    dates leave the order open (importers.base.UnsettledDates): a file that proves its order
    keeps it, so one batch-wide setting cannot misread another donor's files."""
    from importers import registry
    from importers.base import ImportOptions, UnsettledDates

    raw = registry.read(path)  # its head is split once for all the formats asking
    try:
        return _parse(raw, profiles, ImportOptions())
    except UnsettledDates:
        if date_order is None:
            raise
        return _parse(raw, profiles, ImportOptions(date_order=date_order).check())


def _parse(raw: RawFile, profiles: list[Path], options: ImportOptions
           ) -> tuple[str, pl.DataFrame]:
    from importers import hours, registry

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
