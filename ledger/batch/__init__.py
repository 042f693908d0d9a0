"""Research batch: many workers' donated exports -> an anonymised worker-month panel.

`run(input, out, ...)` finds the workers (one folder each under INPUT, or a manifest CSV of
worker,country,path) and hands them, in chunks, to the engine (ledger/batch/engine.py: Dask
tasks on a LocalCluster made on the spot, or on an existing cluster with `--scheduler`). Each
chunk reads its workers (ledger/batch/worker.py: same importers, fee rules and offline FX as
one freelancer's report) and writes its own parquet parts to DIR/panel/, hive-partitioned by
country and year, so memory stays bounded however many workers there are and a killed run
resumes where it stopped. Files that cannot be read go to DIR/errors.csv and the rest goes on;
errors.csv and the terminal name only an error class and our own words for it, never an
error's text, which can quote the file (ledger/batch/errors.py). What a researcher must know
about the donations (no country, identical files, all files failed) is warned about
(ledger/batch/notices.py).
At the end DIR/summary.csv (k-suppressed) is computed from the panel on disk and DIR/README.md
is rendered from the data dictionary (ledger/batch/columns.py). Anonymity rules: batch_anon.py.

Output layout:

    DIR/panel/country=PK/year=2024/part-<chunk key>-<n>.parquet
    DIR/summary.csv   DIR/errors.csv   DIR/README.md   DIR/run.json
    DIR/panel.csv     DIR/panel.dta     (`also`: the whole panel for R/Stata, batch_outputs.py)
    DIR/_chunks/<chunk key>.json   (finished chunks: what makes a rerun resume)
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.core.errors import DataError, LedgerError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from ledger.batch.worker import WorkerTask

CONFIG_FILES = frozenset({"country.txt", "ledger.toml", "rates.csv", "rates-online.csv",
                          "imports.jsonl", ".lock", "hours.parquet", "ledger.parquet"})
"""Files in a worker folder that are settings or ledger state, not exports."""
SKIP_SUFFIXES = (".parquet", ".key", ".lock")
UNKNOWN = "unknown"
MANIFEST_COLUMNS = ("worker", "country", "path", "date_order")
DATE_ORDERS = ("dmy", "mdy")


@dataclass
class Worker:
    id: str
    country: str
    base: Path
    """Folder that file names are taken relative to."""
    files: list[Path] = field(default_factory=list)
    config: Path | None = None
    profiles: Path | None = None
    problems: list[tuple[Path | None, str]] = field(default_factory=list)
    """(file, message) found while discovering: a bad country, a missing path."""
    date_orders: dict[Path, str] = field(default_factory=dict)
    """A file's date order: its manifest row's, else the one a donated ledger directory
    imported it with, else its folder's manifest row's."""


@dataclass
class BatchResult:
    workers: int
    workers_in_panel: int
    files: int
    files_failed: int
    rows: int
    panel_rows: int
    errors: list[str]
    """Errors with their real paths, for the terminal (never written to DIR)."""
    out: Path
    key_created: bool
    warnings: dict[str, Any] = field(default_factory=dict)
    """ledger/batch/notices.py: no country, identical donations, every file failed."""
    chunks: int = 0
    unlisted: list[str] = field(default_factory=list)
    """Folders of INPUT holding exports that no manifest row reads (their real paths, for the
    terminal only: they are no workers of the panel, and their names can name people)."""


# --- settings ------------------------------------------------------------------------------


def load_settings(path: Path | None) -> dict[str, Any]:
    """Trajectory settings: the defaults, with a TOML file's values (top level or in a
    [trajectories] table) over them; unknown keys and bad values are usage errors."""
    import tomllib

    from ledger.batch.columns import TRAJECTORY_SETTINGS

    settings: dict[str, Any] = {s.name: s.default for s in TRAJECTORY_SETTINGS}
    if path is None:
        return settings
    if path.exists() and not path.is_file():  # a FIFO would block the read forever
        raise UsageError("not a regular file", path=path,
                         hint="give a TOML file of trajectory settings")
    try:
        given = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError("no such file", path=path, hint="give a TOML file of trajectory "
                         "settings (see DIR/README.md of any run)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"invalid TOML: {exc}", path=path, hint="fix the syntax") from None
    given = given.get("trajectories", given)
    unknown = sorted(set(given) - set(settings))
    if unknown:
        raise UsageError(f"unknown trajectory setting(s) {unknown}", path=path,
                         hint="known: " + ", ".join(settings))
    for name, value in given.items():
        settings[name] = _setting(name, value, path)
    return settings


def _setting(name: str, value: Any, path: Path) -> Any:
    if name == "benchmark":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(n, str)
                                                               for n in names):
            raise UsageError("benchmark must be a name or a list of names", path=path,
                             hint='e.g. benchmark = ["gni_per_capita", "gdp_per_capita"]')
        return tuple(names)
    if name == "sinking_months":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UsageError("sinking_months must be a whole number of months, at least 1",
                             path=path)
        return value
    if name == "as_of":
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            raise UsageError("as_of must be a month YYYY-MM", path=path, hint='as_of = "2024-12"')
        return value
    if isinstance(value, bool):
        raise UsageError(f"{name} must be a number", path=path)
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        raise UsageError(f"{name} must be a number", path=path,
                         hint=f'e.g. {name} = "0.5"') from None
    if number < 0 or (name.endswith("_share") and number > 1):
        raise UsageError(f"{name} is out of range", path=path,
                         hint="shares are between 0 and 1; ratios and amounts not negative")
    return number


# --- finding the workers ---------------------------------------------------------------------


def _is_export(path: Path) -> bool:
    name = path.name
    return not (name.startswith(".") or name.lower() in CONFIG_FILES
                or name.lower().endswith(SKIP_SUFFIXES))


def _files_under(folder: Path, skip: Path | None,
                 orders: dict[Path, str] | None = None) -> list[Path]:
    """The exports under `folder`; a donated ledger directory's archive as its ledger has it
    (`_in_effect`), the date orders its imports were read with added to `orders`."""
    found = []
    ledgers = []
    for root, dirs, names in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "profiles"
                         and (skip is None or (here / d).resolve() != skip))
        found.extend(here / n for n in sorted(names) if _is_export(here / n))
        if "imports.jsonl" in names and "ledger.parquet" in names:
            ledgers.append(here)
    for root in ledgers:
        found = _in_effect(root, found, {} if orders is None else orders)
    return found


def _in_effect(root: Path, found: list[Path], orders: dict[Path, str]) -> list[Path]:
    """`found` without the archived copies of a donated ledger directory (`root`) that its
    ledger no longer holds: an import the donor undid keeps its copy in sources/, but its
    rows are gone from their ledger, so not read; the copies in effect get the date order
    they were imported with (imports.jsonl's options, as `ledger rebuild` reads them).
    A log that cannot be read leaves every copy in."""
    from ledger.store.directory import Ledger

    ledger = Ledger(root)
    try:
        entries = [*ledger.active_imports(), *ledger.active_imports("hours")]
    except (LedgerError, OSError, ValueError):
        return found
    kept = {root / e["archived"] for e in entries if isinstance(e.get("archived"), str)}
    for entry in entries:
        order = (entry.get("options") or {}).get("date_order")
        if order in DATE_ORDERS and isinstance(entry.get("archived"), str):
            orders.setdefault(root / entry["archived"], order)
    return [p for p in found if p.parent != ledger.sources or p in kept]


def _country_of(folder: Path, worker: Worker) -> str | None:
    """country.txt's first line, else ledger.toml's `country` (read and checked as the worker
    reads it: a file `ledger` would refuse gives no country)."""
    from ledger.batch.worker import read_config

    text = None
    marker = folder / "country.txt"
    if marker.is_file():
        try:
            text = next(iter(marker.read_text("utf-8-sig").split()), "")
        except (OSError, UnicodeDecodeError):
            worker.problems.append((marker, "country.txt is not readable text"))
    elif (folder / "ledger.toml").is_file():
        path = folder / "ledger.toml"
        try:
            text = read_config(path).country
        except DataError:
            if path != worker.config:  # the worker reports the file it reads, at its line
                worker.problems.append((path, "ledger.toml is not usable"))
    return text


def _norm_country(text: str | None, worker: Worker, where: Path | None) -> str:
    if text is None or not text.strip():
        return UNKNOWN
    code = text.strip().upper()
    if code == UNKNOWN.upper():
        return UNKNOWN
    if not re.fullmatch(r"[A-Z]{2}", code):
        worker.problems.append((where, f"country {text!r} is not a two-letter ISO code; "
                                "counted as unknown"))
        return UNKNOWN
    return code


def _check_outside_donations(workers: list[Worker], folder: Path | None, out: Path,
                             key_file: Path) -> None:
    """Refuse --out or --key-file among the donated exports: a key there is read as a worker's
    export (its bytes in the panel), and an output folder there drops or mixes a worker.
    `folder` is INPUT when it is the folder of worker folders (None with a manifest)."""
    key = key_file.expanduser().resolve()
    target = out.expanduser().resolve()
    donated = {f.resolve().parent for w in workers for f in w.files}
    if folder is not None:
        donated.add(folder.resolve())
    if any(key.is_relative_to(d) for d in donated):
        raise UsageError("the key file is inside the donated exports", path=key_file,
                         hint="keep the key outside INPUT, e.g. --key-file ./batch.key next to "
                         "it: there it would be read as a worker's export")
    if any(target.is_relative_to(d) for d in donated):
        raise UsageError("the output folder is inside the donated exports", path=out,
                         hint="write the panel to a folder outside INPUT: inside it, a "
                         "worker's folder would be skipped or read as the panel")


def discover(input_path: Path, manifest: Path | None = None,
             skip: Path | None = None) -> list[Worker]:
    """The workers: a manifest's (worker, country, path rows; paths relative to INPUT when it
    is a folder, else to the manifest), or one per folder of INPUT. `skip` (the output folder)
    is never read."""
    if manifest is None and input_path.is_file():
        manifest, input_path = input_path, input_path.parent
    if manifest is not None:
        return _from_manifest(manifest, input_path if input_path.is_dir() else
                              manifest.parent, skip)
    if not input_path.is_dir():
        raise UsageError("no such folder", path=input_path,
                         hint="INPUT is a folder with one folder per worker, or a manifest CSV")
    workers = []
    for entry in sorted(input_path.iterdir()):
        if not entry.is_dir() or entry.name.startswith(".") or (
                skip is not None and entry.resolve() == skip):
            continue
        worker = Worker(id=entry.name, country=UNKNOWN, base=entry)
        worker.config = entry / "ledger.toml" if (entry / "ledger.toml").is_file() else None
        worker.country = _norm_country(_country_of(entry, worker), worker,
                                       entry / "country.txt")
        worker.files = _files_under(entry, skip, worker.date_orders)
        worker.profiles = entry / "profiles" if (entry / "profiles").is_dir() else None
        workers.append(worker)
    return workers


def unlisted(input_path: Path, workers: list[Worker], skip: Path | None) -> list[Path]:
    """The folders of INPUT (a folder read with a manifest) that hold exports none of which a
    manifest row reads: a donor the manifest left out, said rather than dropped unseen."""
    read = {f.resolve() for w in workers for f in w.files}
    found = []
    for entry in sorted(input_path.iterdir()):
        if not entry.is_dir() or entry.name.startswith(".") or (
                skip is not None and entry.resolve() == skip):
            continue
        files = _files_under(entry, skip)
        if files and not any(f.resolve() in read for f in files):
            found.append(entry)
    return found


def _from_manifest(manifest: Path, base: Path, skip: Path | None) -> list[Worker]:
    if not manifest.is_file():
        raise UsageError("no such manifest", path=manifest,
                         hint="a CSV with the columns worker,country,path (and date_order, "
                         "optional)")
    try:
        text = manifest.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise UsageError("the manifest is not UTF-8 text", path=manifest,
                         hint="save it as CSV UTF-8") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in ("worker", "path") if c not in header]
    if missing:
        raise UsageError(f"the manifest lacks the column(s) {missing}", path=manifest, line=1,
                         hint="the header must be worker,country,path (and date_order, "
                         "optional)")
    index = {name: header.index(name) for name in MANIFEST_COLUMNS if name in header}
    workers: dict[str, Worker] = {}
    for number, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells):
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            at = index.get(name)
            return cells[at].strip() if at is not None and at < len(cells) else ""

        worker_id = cell("worker")
        if not worker_id:
            raise UsageError("empty worker id", path=manifest, line=number,
                             hint="every row names its worker")
        raw_path = cell("path")
        target = (base / raw_path) if raw_path else base / worker_id
        order = _date_order(cell("date_order"), manifest, number)
        worker = workers.get(worker_id)
        if worker is None:
            worker = workers[worker_id] = Worker(id=worker_id, country=UNKNOWN, base=base)
        if worker.country == UNKNOWN and cell("country"):
            worker.country = _norm_country(cell("country"), worker, None)
        if target.is_dir():
            if worker.config is None and (target / "ledger.toml").is_file():
                worker.config = target / "ledger.toml"
            if worker.profiles is None and (target / "profiles").is_dir():
                worker.profiles = target / "profiles"
            if worker.country == UNKNOWN and not cell("country"):
                worker.country = _norm_country(_country_of(target, worker), worker,
                                               target / "country.txt")
            found = _files_under(target, skip, worker.date_orders)
            worker.files.extend(found)
            if order:  # a file's own row wins, whichever comes first
                for path in found:
                    worker.date_orders.setdefault(path, order)
        elif target.exists():
            worker.files.append(target)
            if order:
                worker.date_orders[target] = order
        else:
            worker.problems.append((target, "no such file or folder (manifest line "
                                    f"{number})"))
    for worker in workers.values():
        worker.files = list(dict.fromkeys(worker.files))
    return list(workers.values())


def _date_order(text: str, manifest: Path, line: int) -> str | None:
    """A manifest row's date_order: dmy, mdy or empty (the files settle it, or --date-order)."""
    order = text.lower()
    if order and order not in DATE_ORDERS:
        raise UsageError(f"date_order {text!r} is not dmy or mdy", path=manifest, line=line,
                         hint="dmy reads 05/06/2024 as 5 June, mdy as 6 May (Payoneer's own "
                         "export); leave it empty where the files' dates settle it")
    return order or None


# --- running -----------------------------------------------------------------------------------


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def make_task(worker: Worker, key: bytes, settings: dict[str, Any],
              date_order: str | None = None) -> WorkerTask:
    """The worker as a chunk gets it: pseudonyms and absolute paths; each file's date order
    where its dates leave it open (the manifest's, else `date_order`, --date-order)."""
    from ledger.batch.anon import file_pseudonym
    from ledger.batch.worker import WorkerTask

    def token(path: Path) -> str:
        return file_pseudonym(key, worker.id, _relative(path, worker.base))

    from ledger.batch.anon import pseudonym

    def where(path: Path) -> str:  # absolute: Dask workers run in another directory
        return os.path.abspath(path)

    return WorkerTask(
        pseudonym=pseudonym(key, worker.id), country=worker.country,
        files=tuple((where(p), token(p)) for p in worker.files), settings=settings,
        config=(where(worker.config), token(worker.config)) if worker.config else None,
        profiles=where(worker.profiles) if worker.profiles else None,
        date_orders=tuple(worker.date_orders.get(p, date_order) for p in worker.files)
        if date_order or worker.date_orders else ())


def run(input_path: Path | None, out: Path, *, manifest: Path | None = None,
        key_file: Path = Path("batch.key"), k: int = 5, jobs: int | None = None,
        bands: bool = False, trajectories: Path | None = None,
        progress: Callable[[int, int], None] | None = None, period: str = "month",
        scheduler: str | None = None, map_file: Path | None = None,
        also: Iterable[str] = (), date_order: str | None = None) -> BatchResult:
    """Build DIR/panel, DIR/errors.csv, DIR/summary.csv and DIR/README.md (see the module
    docstring). `progress(done, total)` is called as workers finish. `scheduler`: a Dask
    scheduler's address (else a LocalCluster of `jobs` processes); `map_file`: the private
    pseudonym -> path CSV (ledger/batch/notices.py); `date_order`: "dmy" or "mdy" for files
    whose numeric dates leave the order open and whose manifest row says nothing."""
    from ledger.batch import engine as batch_engine
    from ledger.batch.anon import check_key_path, load_key
    from ledger.batch.notices import check_map_path

    if k < 1:
        raise UsageError(f"--k {k} must be at least 1", hint="cells with fewer than k workers "
                         "are suppressed; 5 or more is usual")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs {jobs} must be at least 1")
    if period not in ("month", "fiscal"):
        raise UsageError(f"--period {period!r} is not month or fiscal")
    from importers.base import ImportOptions

    ImportOptions(date_order=date_order).check()  # `ledger import`'s words for a bad one
    if input_path is None:
        raise UsageError("give INPUT, the folder of worker folders (or a manifest CSV)")
    for given in (input_path, out):
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]+:/", str(given)):  # Path folds :// to :/
            raise UsageError("remote URLs are not read directly", path=given,
                             hint="mount the storage as a folder that this machine and every "
                             "Dask worker see under the same path (NFS, a mounted bucket)")
    if out.exists() and not out.is_dir():
        raise UsageError("--out is a file, not a folder", path=out)
    check_key_path(key_file, out)
    if map_file is not None:
        check_map_path(map_file, out)
    if input_path.resolve() == out.resolve() or input_path.resolve().is_relative_to(
            out.resolve()):
        raise UsageError("INPUT is inside the output folder", path=input_path,
                         hint="write the panel to a new folder outside the donated exports")
    settings = load_settings(trajectories)
    workers = discover(input_path, manifest, skip=out.resolve())
    _check_outside_donations(workers, input_path if manifest is None else None, out, key_file)
    key, created = load_key(key_file)
    left_out = unlisted(input_path, workers, out.resolve()) \
        if manifest is not None and input_path.is_dir() else []
    if not workers:
        raise DataError("no worker folders found", path=input_path,
                        hint="INPUT holds one folder per worker with their exports, or give "
                        "--manifest CSV with worker,country,path")
    out = out.resolve()  # Dask workers may run in another working directory
    out.mkdir(parents=True, exist_ok=True)
    error_rows: list[tuple[str, str, int | None, str]] = []  # pseudonym, file, line, code
    private: list[str] = []
    tasks = []
    by_pseudonym: dict[str, tuple[Worker, WorkerTask]] = {}
    for worker in workers:
        task = make_task(worker, key, settings, date_order)
        tasks.append(task)
        by_pseudonym[task.pseudonym] = (worker, task)
        _problems(key, worker, task, error_rows, private)
    chunks = batch_engine.plan(tasks, key, settings, out, bands=bands,
                               fiscal=period == "fiscal")
    outcomes: list[dict[str, Any]] = []
    done = 0
    for chunk, result in batch_engine.execute(chunks, jobs=jobs or os.cpu_count() or 1,
                                              scheduler=scheduler):
        for outcome in result["workers"]:
            _collect(outcome, by_pseudonym[outcome["pseudonym"]], error_rows, private)
            outcomes.append(outcome)
        done += len(chunk.tasks)
        if progress:
            progress(done, len(workers))
    batch_engine.finish(out, {c.key for c in chunks})
    from ledger.batch.notices import collect

    warnings = collect({t.pseudonym: t.country for t in tasks}, outcomes)
    if map_file is not None:
        _write_map(map_file, by_pseudonym, outcomes)
    write_errors(out / "errors.csv", error_rows)
    write_run_info(out, k=k, bands=bands, settings=settings, warnings=warnings)
    summarize(out, k)
    if period == "fiscal":
        from ledger.core.fiscal import TAX_YEAR_MEANING

        with (out / "README.md").open("a", encoding="utf-8") as readme:
            readme.write(f"\n`tax_year` (Int32, panel): {TAX_YEAR_MEANING}.\n")
    from ledger.batch.outputs import write_also

    write_also(out, also)  # --also csv,dta: the whole panel for Stata/R (batch_outputs.py)
    return BatchResult(
        workers=len(workers), workers_in_panel=sum(1 for o in outcomes if o["panel_rows"]),
        files=sum(len(w.files) for w in workers),
        files_failed=sum(1 for o in outcomes for e in o["errors"] if e[0]),
        rows=sum(o["rows"] for o in outcomes),
        panel_rows=sum(o["panel_rows"] for o in outcomes), errors=sorted(private), out=out,
        key_created=created, warnings=warnings, chunks=len(chunks),
        unlisted=[str(p) for p in left_out])


def _problems(key: bytes, worker: Worker, task: WorkerTask, error_rows: list,
              private: list[str]) -> None:
    """Discovery's problems (a bad country, a missing path): our words, but they may quote a
    file, so errors.csv gets their class only."""
    from ledger.batch.anon import file_pseudonym
    from ledger.batch.errors import classify_message, terminal_line

    for path, message in worker.problems:
        token = file_pseudonym(key, worker.id, _relative(path, worker.base)) \
            if path is not None else ""
        error_class = classify_message(message)
        error_rows.append((task.pseudonym, token, None, error_class.code))
        private.append(terminal_line(str(path or worker.base), None, error_class))


def _collect(outcome: dict[str, Any], owner: tuple[Worker, WorkerTask], error_rows: list,
             private: list[str]) -> None:
    """A worker's error rows (anonymous) and terminal lines (with the real path, found from
    the file pseudonym: chunk results never carry paths)."""
    from ledger.batch.errors import BY_CODE, terminal_line

    worker, task = owner  # paths as the user gave them (the task's are absolute)
    paths = {token: str(path) for path, (_, token) in zip(worker.files, task.files,
                                                          strict=True)}
    if task.config and worker.config:
        paths[task.config[1]] = str(worker.config)
    for token, line, code, detail in outcome["errors"]:
        error_rows.append((task.pseudonym, token, line, code))
        private.append(terminal_line(paths.get(token) or str(worker.base), line, BY_CODE[code],
                                     detail))


def _write_map(map_file: Path, by_pseudonym: dict[str, tuple[Worker, WorkerTask]],
               outcomes: list[dict[str, Any]]) -> None:
    from ledger.batch.notices import write_map

    hashes = {o["pseudonym"]: o["hashes"] for o in outcomes}
    rows = []
    for name, (worker, task) in by_pseudonym.items():
        folder = os.path.abspath(worker.base)
        rows.append((name, folder, "", "", ""))
        rows.extend((name, folder, token, hashes.get(name, {}).get(token) or "", path)
                    for path, token in task.files)
    write_map(map_file, rows)


def write_errors(path: Path, rows: list[tuple[str, str, int | None, str]]) -> None:
    """DIR/errors.csv from (pseudonym, file token, line, error class code) rows: the message
    and the hint are the class's fixed text (ledger/batch/errors.py), never an exception's."""
    from ledger.batch.columns import ERRORS
    from ledger.batch.errors import BY_CODE
    from ledger.store.directory import atomic_write_bytes

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in ERRORS])
    for pseudonym_, token, line, code in sorted(rows, key=lambda r: (r[0], r[1], r[2] or 0,
                                                                     r[3])):
        writer.writerow([pseudonym_, token, "" if line is None else line, code,
                         BY_CODE[code].text, BY_CODE[code].hint])
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))


def write_run_info(out: Path, *, k: int, bands: bool, settings: dict[str, Any],
                   warnings: dict[str, Any] | None = None) -> None:
    """DIR/run.json: the options that shape the outputs (for --summary-only and the README),
    and the run's warnings, by pseudonym."""
    from ledger.store.directory import atomic_write_bytes

    info = {"schema": "ledger.batch/1", "k": k, "bands": bands,
            "trajectories": {n: (list(v) if isinstance(v, tuple) else
                                 str(v) if isinstance(v, Decimal) else v)
                             for n, v in settings.items()},
            "warnings": warnings or {}}
    atomic_write_bytes(out / "run.json", (json.dumps(info, indent=2) + "\n").encode("utf-8"))


def read_run_info(out: Path) -> dict[str, Any]:
    path = out / "run.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DataError("damaged run.json", path=path,
                        hint="run the batch again to rewrite it") from None


# --- summary -------------------------------------------------------------------------------


def _quartile(values: pl.Expr, numerator: int, denominator: int = 4) -> pl.Expr:
    """The q-th quantile (q = numerator/denominator) of a Decimal column with linear
    interpolation between order statistics, in exact decimals, rounded to cents."""
    import polars as pl

    ordered = values.sort()
    n = pl.len().cast(pl.Int64)
    scaled = (n - 1) * numerator
    low = scaled // denominator
    high = pl.min_horizontal(low + 1, n - 1)
    fraction = (scaled % denominator).cast(pl.Decimal(38, 4)) / pl.lit(
        Decimal(denominator)).cast(pl.Decimal(38, 4))
    start = ordered.get(low)
    value = start + (ordered.get(high) - start) * fraction
    return value.round(2, mode="half_to_even").cast(pl.Decimal(38, 2))


def summarize(out: Path, k: int) -> pl.DataFrame:
    """DIR/summary.csv from the panel on disk (so it covers every part there, e.g. the panels
    of several runs copied together) and DIR/README.md; returns the summary table."""
    import polars as pl

    from ledger.batch.anon import BANDS_TEXT, suppress
    from ledger.batch.columns import SUMMARY, TRAJECTORIES, render_readme
    from ledger.batch.outputs import panel_bands
    from ledger.store.directory import atomic_write_bytes

    info = read_run_info(out)
    parts = sorted(p for p in (out / "panel").rglob("*.parquet") if not p.name.startswith(
        ".")) if (out / "panel").exists() else []
    recorded = info.get("bands")
    bands = panel_bands(out, parts, recorded if isinstance(recorded, bool) else None)
    figures = ["net_usd_p25", "net_usd_median", "net_usd_p75"]
    if parts:
        panel = pl.scan_parquet(  # the parts found, literally: OUT may hold `[` or `*`
            parts, glob=False, hive_partitioning=True,
            hive_schema={"country": pl.String, "year": pl.Int32},
        ).select("pseudonym", "country", "month", "net_usd", "trajectory").collect()
        panel = panel.unique(["pseudonym", "month"], keep="first", maintain_order=True)
    else:
        panel = pl.DataFrame(schema={"pseudonym": pl.String, "country": pl.String,
                                     "month": pl.String, "net_usd": pl.Decimal(38, 2),
                                     "trajectory": pl.String})

    def stats(values: str) -> list[pl.Expr]:
        return [_quartile(pl.col(values), q).alias(name) for q, name in zip(
            (1, 2, 3), figures, strict=True)]

    monthly = panel.group_by("country", "month").agg(
        pl.col("pseudonym").n_unique().cast(pl.Int64).alias("workers"), *stats("net_usd"))
    monthly = suppress(monthly, k, figures).with_columns(
        pl.lit("monthly").alias("table"), pl.lit("").alias("trajectory"))
    per_worker = panel.group_by("country", "pseudonym").agg(
        pl.col("trajectory").first(),
        (pl.col("net_usd").cast(pl.Decimal(38, 12)).sum() / pl.len()).alias("mean_net"))
    by_trajectory = per_worker.group_by("country", "trajectory").agg(
        pl.len().cast(pl.Int64).alias("workers"), *stats("mean_net"))
    by_trajectory = suppress(by_trajectory, k, figures, group=["country"])
    overall = suppress(per_worker.group_by("country").agg(
        pl.len().cast(pl.Int64).alias("workers"), *stats("mean_net")).with_columns(
        pl.lit("all").alias("trajectory")), k, figures)
    order = {name: i for i, name in enumerate((*TRAJECTORIES, "all"))}
    trajectory = pl.concat([by_trajectory, overall.select(by_trajectory.columns)]).with_columns(
        pl.lit("trajectory").alias("table"), pl.lit("").alias("month"),
        pl.col("trajectory").replace_strict(order, default=len(order)).alias("_order"))
    trajectory = trajectory.sort("country", "_order").drop("_order")
    columns = [c.name for c in SUMMARY]
    table = pl.concat([monthly.sort("country", "month").select(columns),
                       trajectory.select(columns)])
    atomic_write_bytes(out / "summary.csv", table.write_csv().encode("utf-8"))
    settings = load_settings(None)
    settings.update({n: tuple(v) if isinstance(v, list) else v
                     for n, v in (info.get("trajectories") or {}).items()})
    readme = render_readme(k=k, bands=bands, settings=settings,
                           bands_text=BANDS_TEXT)
    atomic_write_bytes(out / "README.md", readme.encode("utf-8"))
    return table
