"""The research batch's engine: chunks of workers as Dask tasks, each writing its own parts.

`ledger batch` cuts the workers into chunks (`plan`), and each chunk is one task,
`run_chunk`, on a Dask cluster: a `LocalCluster` made on the spot (one process per --jobs,
polars threads sharing the cores), or an existing one (`--scheduler tcp://HOST:8786` or
DASK_SCHEDULER_ADDRESS: dask-jobqueue on SLURM/PBS, dask-kubernetes, a hand-started
`dask scheduler` + `dask worker`). With one job or one chunk the chunks run in this process.

A chunk reads its workers (ledger.batch.worker.process_many), writes its rows as its OWN
parquet parts, `panel/country=CC/year=YYYY/part-<chunk key>-<n>.parquet` (each written under a
temporary name and renamed), then its commit marker `_chunks/<chunk key>.json`, which is also
the small result the client gets back: counters, error classes and keyed content hashes, never
a path or a file's text. The chunk key is a hash of the pseudonym key's id, the engine
version, the settings and the chunk's inputs (pseudonyms, countries, file tokens, sizes and
mtimes), so a run is resumable: a chunk whose marker exists is not run again, and a task killed
mid-way leaves at most parts that its retry (or the next run) rewrites under the same names.
`finish` then removes parts and markers of chunks that are not this run's (older inputs).

Paths are local or shared-folder paths (NFS, a mounted bucket) that the client and every Dask
worker see under the same name.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.core.errors import DataError, UsageError

if TYPE_CHECKING:
    from ledger.batch.worker import WorkerTask

ENGINE = "ledger.batch.chunk/1"
"""Part of every chunk key: bump when a chunk's output for the same inputs changes."""
MARKERS = "_chunks"
MAX_CHUNK = 64
"""Workers per chunk at most (memory of one task; progress granularity)."""
CHUNKS_WANTED = 128
"""Up to this many workers, a chunk each (a killed task loses one worker's work)."""
MIN_CHUNKS = 16
"""Beyond CHUNKS_WANTED workers, chunks of up to MAX_CHUNK, at least this many of them: a
chunk's fixed costs (one read and one count per format and fee schedule) shared by many
workers, and still several chunks per core on any usual cluster."""
QUIET = {"distributed.worker.profile.enabled": False,
         "distributed.admin.tick.interval": "1s", "distributed.admin.system-monitor.interval": "2s",
         "distributed.worker.memory.monitor-interval": "1s",
         "distributed.scheduler.work-stealing-interval": "1s"}
"""Dask settings of the LocalCluster made on the spot (nannies pass them on to their workers):
no stack sampling, and the event-loop, system and memory monitors and work stealing every
second or two rather than every 20-500 ms. Each costs CPU that the chunks need: idle, the
defaults took ~0.1 CPU second per second over the scheduler and two workers, these a fifth
of that."""
DELAY_ENV = "LEDGER_BATCH_DELAY"
"""Seconds each chunk sleeps before its work: tests use it so a worker kill lands mid-chunk."""


@dataclass(frozen=True)
class Chunk:
    key: str
    tasks: tuple[WorkerTask, ...]
    out: str
    """The output folder (DIR)."""
    bands: bool
    fiscal: bool
    salt: bytes
    """Keys the content hashes (derived from the pseudonym key, never the key itself)."""


def chunk_size(workers: int) -> int:
    """Workers per chunk: depends on the number of workers only (not on --jobs or the
    cluster), so a run resumed on other hardware finds the same chunks."""
    if workers <= CHUNKS_WANTED:
        return 1
    return min(MAX_CHUNK, math.ceil(workers / MIN_CHUNKS))


def _stamp(path: str) -> list[Any]:
    try:
        info = os.stat(path)
    except OSError:
        return [path, None, None]
    return [info.st_size, info.st_mtime_ns]


def _task_inputs(task: WorkerTask) -> list[Any]:
    """What a worker's rows depend on: tokens (they name the files) and sizes/mtimes, and a
    file's date order where one is given (a run that settles a file's dates reads it again;
    keys of files without one are as they were)."""
    profiles: list[Any] = []
    if task.profiles:
        for root, _, names in sorted(os.walk(task.profiles)):
            profiles.extend([n, *_stamp(os.path.join(root, n))] for n in sorted(names))
    config = [task.config[1], *_stamp(task.config[0])] if task.config else None
    orders = task.date_orders or (None,) * len(task.files)
    return [task.pseudonym, task.country,
            [[t, *_stamp(p), *([order] if order else [])]
             for (p, t), order in zip(task.files, orders, strict=True)], config, profiles]


def plan(tasks: list[WorkerTask], key: bytes, settings: dict[str, Any], out: Path, *,
         bands: bool, fiscal: bool) -> list[Chunk]:
    """The run's chunks, workers in a stable order (country first, so parts stay few)."""
    import hmac

    ordered = sorted(tasks, key=lambda t: (t.country, t.pseudonym))
    size = chunk_size(len(ordered))
    key_id = hashlib.sha256(b"ledger batch key id\x00" + key).hexdigest()[:16]
    salt = hmac.new(key, b"ledger batch content hash", hashlib.sha256).digest()
    shared = json.dumps([ENGINE, key_id, bands, fiscal,
                         sorted((n, str(v)) for n, v in settings.items())])
    chunks = []
    for start in range(0, len(ordered), size):
        group = tuple(ordered[start:start + size])
        digest = hashlib.sha256(shared.encode())
        digest.update(json.dumps([_task_inputs(t) for t in group]).encode())
        chunks.append(Chunk(digest.hexdigest()[:24], group, str(out), bands, fiscal, salt))
    return chunks


def marker_path(out: Path | str, key: str) -> Path:
    return Path(out) / MARKERS / f"{key}.json"


def read_marker(out: Path | str, key: str) -> dict[str, Any] | None:
    """A finished chunk's result, or None (missing, or torn by a crash: then it reruns)."""
    try:
        found = json.loads(marker_path(out, key).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("key") == key else None


# --- on a Dask worker ------------------------------------------------------------------------


def content_hash(path: str, salt: bytes) -> str | None:
    """Keyed BLAKE2b of a file's bytes (identical donations), None if unreadable or empty."""
    import stat

    digest = hashlib.blake2b(key=salt[:64], digest_size=16)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or device would block or never end
            return None
        with open(path, "rb") as handle:
            size = 0
            while block := handle.read(1 << 20):
                size += len(block)
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest() if size else None


def run_chunk(chunk: Chunk) -> dict[str, Any]:
    """Read a chunk's workers, write its parts and its marker; returns the marker's content.
    Runs on a Dask worker (or in the client with one job)."""
    done = read_marker(chunk.out, chunk.key)
    if done is not None:
        return done
    delay = float(os.environ.get(DELAY_ENV) or 0)
    if delay:
        time.sleep(delay)
    results = _process(list(chunk.tasks))
    frames = []
    workers = []
    for task, result in zip(chunk.tasks, results, strict=True):
        if isinstance(result, BaseException):  # a bug that escaped the worker's handling
            from ledger.batch.errors import UNEXPECTED

            errors = [["", None, UNEXPECTED.code, type(result).__name__]]
            rows = files_read = height = 0
        else:
            errors = [[token, line, code, detail] for token, _, line, code, detail
                      in result.errors]
            rows, files_read = result.rows, result.files_read
            height = result.panel.height if result.panel is not None else 0
            if height:
                import polars as pl

                frames.append(result.panel.with_columns(pl.lit(task.pseudonym).alias(
                    "pseudonym")))
        workers.append({
            "pseudonym": task.pseudonym, "rows": rows, "files": len(task.files),
            "files_read": files_read, "panel_rows": height, "errors": errors,
            "hashes": {t: content_hash(p, chunk.salt) for p, t in task.files}})
    parts = write_parts(frames, Path(chunk.out) / "panel", chunk.key, bands=chunk.bands,
                        fiscal=chunk.fiscal)
    summary = {"schema": ENGINE, "key": chunk.key, "parts": parts, "workers": workers}
    from ledger.store.directory import atomic_write_bytes

    marker = marker_path(chunk.out, chunk.key)
    marker.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(marker, json.dumps(summary).encode("utf-8"))
    return summary


def _process(tasks: list[WorkerTask]) -> list[Any]:
    """process_many's results; if it raises (a bug), each worker alone, the failing ones
    as their exception (the chunk's other workers still count)."""
    from ledger.batch.worker import process, process_many

    try:
        return list(process_many(tasks))
    except Exception:
        pass
    results: list[Any] = []
    for task in tasks:
        try:
            results.append(process(task))
        except Exception as exc:
            results.append(exc)
    return results


def write_parts(frames: list, root: Path, key: str, *, bands: bool, fiscal: bool
                ) -> list[str]:
    """One part per country and year present, named by the chunk key (a rerun overwrites
    the same names); each is written under a temporary name and renamed into place."""
    import polars as pl

    from ledger.batch.outputs import part_metadata
    from ledger.store.directory import atomic_write

    if not frames:
        return []
    frame = pl.concat(frames, how="vertical")
    if bands:
        from ledger.batch.anon import apply_bands

        frame = apply_bands(frame)
    if fiscal:
        from ledger.core.fiscal import with_tax_year

        frame = with_tax_year(frame)
    frame = frame.sort("country", "year", "pseudonym", "month")
    written = []
    for number, ((country, year), part) in enumerate(frame.partition_by(
            ["country", "year"], as_dict=True, maintain_order=True).items()):
        folder = root / f"country={country}" / f"year={year}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"part-{key}-{number:03d}.parquet"
        rows = part.drop("country", "year")
        atomic_write(target, lambda tmp, rows=rows: rows.write_parquet(
            tmp, compression="zstd", statistics=True, metadata=part_metadata(bands)))
        written.append(target.relative_to(root).as_posix())
    return written


# --- in the client ---------------------------------------------------------------------------


def execute(chunks: list[Chunk], *, jobs: int, scheduler: str | None
            ) -> Iterator[tuple[Chunk, dict[str, Any]]]:
    """(chunk, result) as chunks finish: finished ones (marker present) first, without a
    task; the rest in this process (one job, or one chunk, and no --scheduler) or on Dask."""
    todo = []
    for chunk in chunks:
        done = read_marker(chunk.out, chunk.key)
        if done is None:
            todo.append(chunk)
        else:
            yield chunk, done
    if not todo:
        return
    if scheduler is None and (jobs <= 1 or len(todo) <= 1):
        for chunk in todo:
            yield chunk, run_chunk(chunk)
        return
    yield from _on_dask(todo, jobs, scheduler)


def _on_dask(chunks: list[Chunk], jobs: int, scheduler: str | None
             ) -> Iterator[tuple[Chunk, dict[str, Any]]]:
    import dask
    from distributed import Client, LocalCluster, as_completed
    from distributed.scheduler import KilledWorker

    cluster = None
    if scheduler is None:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with dask.config.set(QUIET):
            cluster = LocalCluster(  # on loopback, any free port, no dashboard
                n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
                silence_logs=cluster_log_level(), env={"POLARS_MAX_THREADS": str(threads)})
        client = Client(cluster)
    else:
        client = _connect(scheduler)
    try:
        futures = client.map(run_chunk, chunks, key=[f"ledger-chunk-{c.key}" for c in chunks],
                             pure=False)
        by_key = {f.key: c for f, c in zip(futures, chunks, strict=True)}
        for future in as_completed(futures, loop=client.loop):  # not the default client's
            try:
                result = future.result()
            except KilledWorker:
                raise DataError(
                    "a batch process died again and again on one chunk (out of memory?)",
                    hint="run again with fewer --jobs (or more memory per Dask worker): "
                    "finished chunks are kept and skipped") from None
            yield by_key[future.key], result
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def cluster_log_level() -> int:
    """The level of the on-the-spot cluster's own logs, which its processes print to the
    user's terminal: CRITICAL, so none of Dask's tracebacks is shown (a worker's heartbeat
    racing the scheduler's shutdown logged one at ERROR after a finished batch). What goes
    wrong in a chunk reaches the user anyway, through its future, as a clear message;
    with LEDGER_DEBUG set, ERROR, as for the CLI's own tracebacks."""
    import logging

    return logging.ERROR if os.environ.get("LEDGER_DEBUG") else logging.CRITICAL


def _connect(address: str) -> Any:
    from distributed import Client

    if "://" not in address and ":" not in address:
        raise UsageError(f"--scheduler {address!r} is not an address",
                         hint="e.g. --scheduler tcp://10.0.0.5:8786")
    try:
        return Client(address, timeout=30)
    except (OSError, TimeoutError, ValueError):
        raise DataError(f"cannot reach the Dask scheduler at {address}",
                        hint="start it (`dask scheduler`) and its workers, or leave out "
                        "--scheduler and DASK_SCHEDULER_ADDRESS to run on this machine"
                        ) from None


def finish(out: Path, keys: set[str]) -> None:
    """Remove what is not this run's: parts and markers of other chunk keys (a run over
    other inputs or settings, or the old part names) and temporary files of killed tasks."""
    panel = out / "panel"
    if panel.exists():
        for path in panel.rglob("*"):
            if not path.is_file():
                continue
            name = path.name
            stale = (name.startswith(".") and name.endswith(".tmp")) or (
                name.endswith(".parquet") and _key_of(name) not in keys)
            if stale:
                path.unlink(missing_ok=True)
    markers = out / MARKERS
    if markers.exists():
        for path in markers.iterdir():
            if (path.suffix == ".json" and path.stem not in keys) or path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)


def _key_of(name: str) -> str:
    parts = name.split("-")
    return parts[1] if len(parts) >= 3 and parts[0] == "part" else ""

