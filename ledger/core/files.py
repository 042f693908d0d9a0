"""Writing files so a reader never sees half of one: write a temporary copy, fsync it, rename
it into place, fsync the folder. The store commits through these, and so does everything else
that writes a file a later command reads (the online-rate cache, exports, a batch's parts).

Temporary names carry the writer's process id (`.NAME.PID.tmp`, `.NAME.PID.staged`,
`.NAME.PID.staged.tmp`) so `ledger doctor` can tell an abandoned one from one still in use.
Core: imports nothing of the project but ledger.errors.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from ledger.core.errors import polars_os_error


def checkpoint(step: str) -> None:
    """A named point between write steps; tests replace it to inject a failure at each one,
    and the kill test sets LEDGER_STEP_DELAY (seconds) so its kills land between steps."""
    delay = os.environ.get("LEDGER_STEP_DELAY")
    if delay:
        import sys
        import time

        sys.stderr.write(f"step {step}\n")
        sys.stderr.flush()
        time.sleep(float(delay))


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], None], *, durable: bool = True) -> None:
    """Write via `write(tmp)`, fsync, rename over `path`: readers see old or new, never half.
    Not `durable`: renamed into place without the fsyncs (a checksummed cache, which a crash
    may tear or lose: it is seen and rebuilt)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        os_errors(write, tmp)
        if durable:
            fsync(tmp)
            rename_into_place(tmp, path)
        else:
            os.replace(tmp, path)
    except OSError as exc:
        if exc.filename == str(tmp):  # name the file the user knows, not our temporary one
            exc.filename = str(path)
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def os_errors(write: Callable[[Path], None], path: Path, shown: Path | None = None) -> None:
    """`write(path)` (a polars write), with its I/O failures raised as the OSError they are:
    polars reports a full disk as a ComputeError naming `os error N`, and a file-size limit
    as a bare `transport error`. Writing a frame that exists fails for no other reason.
    `shown` is the file the user knows, named instead of a temporary `path`."""
    import errno

    import polars as pl

    try:
        write(path)
    except pl.exceptions.PolarsError as exc:
        found = polars_os_error(exc, path)
        if found is None:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            found = OSError(errno.EIO, f"the write failed ({detail})", str(path))
        found.filename = str(shown or path)
        raise found from None


def fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def rename_into_place(written: Path, path: Path) -> None:
    """Rename a written, fsynced file over `path` and make the rename itself durable."""
    checkpoint(f"before rename {path.name}")
    os.replace(written, path)
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data), durable=durable)


def keep_cached(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write a file a command can rebuild (a cache), atomically, its folders made; a failure
    (a read-only or full disk) is passed over: the next command rebuilds it. Not `sync`: not
    fsynced (renamed into place all the same), for a checksummed file whose loss or tear in a
    crash is seen and rebuilt (ledger/counting/kept.py: ~2 ms of a command less)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data, durable=sync)
    except OSError:
        pass


class ArchiveStager:
    """Writes each source's archive copy (under a temporary name) as the file is read and
    fsyncs it on a background thread while the files are still being parsed: syncing a large
    export to disk then costs I/O time, not wall time of its own. The write itself is the
    caller's: a thread writing the bytes held them, a file's size, for as long as a busy disk
    made it wait (seconds), which put them on a large import's peak in some runs only (HDFC
    1M rows: 503 MiB or 391). The commit renames the copies into place under the lock;
    `close` removes any not taken (a failed import) and the directories made for them.
    Temporary names are what `doctor` clears after a kill (`sources/.*.tmp`)."""

    def __init__(self, sources: Path) -> None:
        from concurrent.futures import Future, ThreadPoolExecutor

        self.sources = sources
        self.made = [d for d in (sources.parent, sources) if not d.exists()]
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive")
        self.staged: dict[str, Future[Path]] = {}

    def stage(self, name: str, data: bytes) -> None:
        from concurrent.futures import Future

        if name in self.staged or (self.sources / name).exists():
            return
        self.sources.mkdir(parents=True, exist_ok=True)
        copy = self.sources / f".{name}.{os.getpid()}.staged.tmp"
        try:
            written = write_unsynced(copy, data)
        except OSError as exc:  # a full disk: the commit fails with it, as with the fsync's
            failed: Future[Path] = Future()
            failed.set_exception(exc)
            self.staged[name] = failed
            return
        self.staged[name] = self.pool.submit(synced, written)

    def take(self, name: str) -> Path | None:
        """The finished copy of `name`; None if it was not staged or has gone (a concurrent
        `doctor` clears temporary files), and the caller writes it itself."""
        future = self.staged.pop(name, None)
        if future is None:
            return None
        copy = future.result()  # the copy's own OSError (a full disk) fails the commit
        return copy if copy.exists() else None

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for future in self.staged.values():
            if future.exception() is None:
                future.result().unlink(missing_ok=True)
        for directory in reversed(self.made):
            with suppress(OSError):
                directory.rmdir()  # only if empty: kept when the import landed


def write_unsynced(path: Path, data: bytes) -> Path:
    """`data` written to `path` (removed if the write fails), not yet fsynced (`synced`):
    past the page cache where it can be (ledger.core.uncached: an archive copy is not read
    soon, and copying it into the cache cost a third of a large import's CPU)."""
    from ledger.core import uncached

    try:
        uncached.write(path, data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def synced(path: Path) -> Path:
    """`path` fsynced (removed if that fails); one gone meanwhile (a concurrent `doctor`
    cleared it) is left gone, for the caller to see."""
    try:
        fsync(path)
    except FileNotFoundError:
        return path
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def writer_running(path: Path) -> bool:
    """Whether the process whose id a temporary file's name carries (`.NAME.PID.tmp`,
    `.NAME.PID.staged`, `.NAME.PID.staged.tmp`) is still running, i.e. the file may still
    be in use. A reused id keeps a file until the next `doctor`, which is the safe side."""
    import re

    match = re.search(r"\.(\d+)\.(?:staged\.tmp|staged|tmp)$", path.name)
    if not match or int(match.group(1)) in (os.getpid(), 0):
        return False
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError) as exc:
        return isinstance(exc, PermissionError)
    return True


def user_cache() -> Path:
    """The app's folder in the user cache folder, where a command keeps what it can rebuild
    (ledger/core/locale_data.py, rules/fx.py's ECB text): `$XDG_CACHE_HOME/freelance-ledger`,
    else `~/.cache/freelance-ledger` on Linux, as platformdirs says (without importing it,
    ~0.004 s of a command); platformdirs' folder elsewhere."""
    import sys

    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
        return Path(base) / "freelance-ledger"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("freelance-ledger"))
