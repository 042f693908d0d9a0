"""Research batch: many workers' donated exports -> an anonymised worker-month panel.

`run(input, out, ...)` finds the workers (ledger/batch/donors.py: one folder each under INPUT,
or a manifest CSV of worker,country,path) and hands them, in chunks, to the engine
(ledger/batch/engine.py: Dask tasks on a LocalCluster made on the spot, or on an existing
cluster with `--scheduler`). Each
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

from ledger.batch.donors import (  # noqa: F401  (finding the workers: ledger/batch/donors.py)
    CONFIG_FILES,
    DATE_ORDERS,
    MANIFEST_COLUMNS,
    UNKNOWN,
    Worker,
    _check_outside_donations,
    discover,
    unlisted,
)
from ledger.core.errors import DataError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from ledger.batch.worker import WorkerTask


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
