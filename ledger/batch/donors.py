"""Who the donors of a research batch are and which of their files are exports.

`discover` finds the workers: one folder each under INPUT, or the rows of a manifest CSV
(worker, country, path and, optional, date_order: how to read a folder's or file's numeric
dates where they leave the order open). A worker's country comes from the manifest, else
country.txt or ledger.toml in their folder; settings and ledger state are never read as
exports, and a donated ledger directory's archive is read as its ledger holds it
(`_in_effect`). `unlisted` names the folders a manifest leaves out.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ledger.core.errors import DataError, LedgerError, UsageError

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
