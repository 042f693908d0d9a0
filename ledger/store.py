"""The ledger directory: archived originals, the import log, and the canonical rows.

```
<dir>/ledger.toml               user config (home_currency, country, ...)
<dir>/rates.csv                 the user's own FX rates (date,from,to,rate), optional
<dir>/sources/<sha256>.<ext>    every imported file, byte for byte, read-only
<dir>/sources/<sha256>.profile.toml  the user bank profile an import was read with, read-only
<dir>/imports.jsonl             append-only log of imports and undos
<dir>/ledger.parquet            canonical rows, sorted by date
<dir>/hours.parquet             timesheet rows (paid and unpaid hours), from `ledger hours import`
<dir>/.lock                     one writer at a time
```

Nothing is lost: every file is parsed and validated before anything is written; writes go to
a temp file, are fsynced and renamed into place under the lock; and if any step fails, every
file already touched is put back as it was, so a failed import leaves the directory
byte-identical. Each log entry records the sha256 of the ledger it produced, so a crash
between the two renames is detectable (the entry whose hash does not match was not committed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.errors import DataError, UsageError, os_error, polars_os_error

if TYPE_CHECKING:
    import polars as pl

    from importers.base import Format, ImportOptions, Parsed

APP = "freelance-ledger"
LOCK_TIMEOUT_S = 60
TEXT_SETTINGS = {"home_currency": "PKR", "country": "PK", "locale": "en_PK"}
"""ledger.toml settings that must be text, with an example for the message."""
LOG_MARK = "freelance_ledger.log_bytes"
"""Parquet metadata key: the length of imports.jsonl the file was committed with."""


def resolve_dir(option: str | Path | None = None) -> Path:
    """`--ledger DIR`, else `$LEDGER_DIR`, else the platform's user data directory."""
    env = os.environ.get("LEDGER_DIR")
    if option or env:
        root = Path(option or env).expanduser()  # type: ignore[arg-type]
    else:
        from platformdirs import user_data_dir

        root = Path(user_data_dir(APP))
    if root.exists() and not root.is_dir():
        raise UsageError("the ledger is a file, not a folder", path=root,
                         hint="give the ledger's folder with --ledger DIR (or $LEDGER_DIR); a "
                         "new folder name creates a new ledger")
    return root


def _checkpoint(step: str) -> None:
    """A named point between write steps; tests replace it to inject a failure at each one,
    and the kill test sets LEDGER_STEP_DELAY (seconds) so its kills land between steps."""
    delay = os.environ.get("LEDGER_STEP_DELAY")
    if delay:
        import sys
        import time

        sys.stderr.write(f"step {step}\n")
        sys.stderr.flush()
        time.sleep(float(delay))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via `write(tmp)`, fsync, rename over `path`: readers see old or new, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _os_errors(write, tmp)
        _fsync(tmp)
        _rename_into_place(tmp, path)
    except OSError as exc:
        if exc.filename == str(tmp):  # name the file the user knows, not our temporary one
            exc.filename = str(path)
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def _os_errors(write: Callable[[Path], None], path: Path, shown: Path | None = None) -> None:
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


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _rename_into_place(written: Path, path: Path) -> None:
    """Rename a written, fsynced file over `path` and make the rename itself durable."""
    _checkpoint(f"before rename {path.name}")
    os.replace(written, path)
    _fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


class _ArchiveStager:
    """Writes each source's archive copy (under a temporary name, fsynced) on a background
    thread while the files are still being parsed: copying a large export then costs I/O
    time, not wall time of its own. The commit renames the copies into place under the lock;
    `close` removes any not taken (a failed import) and the directories made for them.
    Temporary names are what `doctor` clears after a kill (`sources/.*.tmp`)."""

    def __init__(self, sources: Path) -> None:
        from concurrent.futures import Future, ThreadPoolExecutor

        self.sources = sources
        self.made = [d for d in (sources.parent, sources) if not d.exists()]
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive")
        self.staged: dict[str, Future[Path]] = {}

    def stage(self, name: str, data: bytes) -> None:
        if name in self.staged or (self.sources / name).exists():
            return
        self.sources.mkdir(parents=True, exist_ok=True)
        copy = self.sources / f".{name}.{os.getpid()}.staged.tmp"
        self.staged[name] = self.pool.submit(_write_synced, copy, data)

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


def _write_synced(path: Path, data: bytes) -> Path:
    try:
        with open(path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@dataclass
class ImportSummary:
    """What one file did to the ledger."""

    path: str
    import_id: str
    format: str
    rows_read: int
    rows: int
    added: int
    duplicates: int
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


class _Rollback:
    """Remembers every file an operation creates or replaces, to put all back on failure."""

    def __init__(self) -> None:
        self.created: list[Path] = []
        self.replaced: dict[Path, bytes | None] = {}

    def write(self, path: Path, data: bytes) -> None:
        if path not in self.replaced:
            self.replaced[path] = path.read_bytes() if path.exists() else None
        atomic_write_bytes(path, data)

    def replace(self, path: Path, staged: Path) -> None:
        """Move an already written file into place (fsync, rename), remembering the old one."""
        if path not in self.replaced:
            self.replaced[path] = path.read_bytes() if path.exists() else None
        _fsync(staged)
        _rename_into_place(staged, path)

    def undo(self) -> None:
        for path in reversed(self.created):
            if path.exists():
                path.chmod(0o600)
                path.unlink()
        for path, old in self.replaced.items():
            if old is None:
                if path.exists():
                    path.unlink()
            else:
                atomic_write_bytes(path, old)


class Ledger:
    """One freelancer's ledger directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.rows_path = root / "ledger.parquet"
        self.hours_path = root / "hours.parquet"
        self.log_path = root / "imports.jsonl"
        self.sources = root / "sources"
        self.config_path = root / "ledger.toml"
        self.rates_path = root / "rates.csv"
        self.lock_path = root / ".lock"

    # --- reading ------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.rows_path.exists()

    def rows(self) -> pl.DataFrame:
        """All canonical rows as every command counts them: the stored rows with the user's
        `[[rules]]` of ledger.toml applied (ledger.user_rules), never written back."""
        from ledger import user_rules

        return user_rules.apply(self.stored_rows(), user_rules.for_ledger(self))

    def stored_rows(self) -> pl.DataFrame:
        """The rows as imported (empty, typed, if nothing was imported yet)."""
        import polars as pl

        from ledger import schema

        if not self.rows_path.exists():
            return schema.empty()
        try:
            df = pl.read_parquet(self.rows_path, glob=False)
        except Exception as exc:  # polars raises several error types for a damaged file
            raise DataError(f"cannot read the ledger: {exc}", path=self.rows_path,
                            hint="run `ledger rebuild` to re-create it from the archived sources"
                            ) from None
        return schema.stored(df, self.rows_path)

    def committed_log(self) -> bytes:
        """The import log as far as a committed parquet vouches for it.

        A commit writes the log first and the parquet last, and the parquet records how long the
        log was (LOG_MARK). A process killed between the two leaves log entries no parquet
        vouches for: readers ignore them, the next write drops them, `ledger doctor` reports
        them. Parquet files without a mark (written before marks existed) vouch for the whole
        log; with no parquet at all, nothing was committed."""
        if not self.log_path.exists():
            return b""
        data = self.log_path.read_bytes()
        written = [p for p in (self.rows_path, self.hours_path) if p.exists()]
        if not written:
            return b""
        marks = [_log_mark(p) for p in written]
        if any(mark is None for mark in marks):
            return data
        return data[:max(m for m in marks if m is not None)]

    def log(self) -> list[dict]:
        """Committed import log entries, oldest first."""
        entries = []
        for number, text in enumerate(self.committed_log().decode("utf-8").splitlines(), 1):
            if not text.strip():
                continue
            try:
                entries.append(json.loads(text))
            except json.JSONDecodeError:
                raise DataError("damaged import log entry", path=self.log_path, line=number,
                                hint="remove the damaged line, then run `ledger rebuild`") from None
        return entries

    def config(self) -> dict:
        """ledger.toml as a dict ({} if absent)."""
        from ledger import tomlfile

        if not self.config_path.exists():
            return {}
        try:
            config = tomlfile.parse(self.config_path.read_text("utf-8"))
        except tomlfile.TOMLDecodeError as exc:
            raise UsageError(f"invalid TOML: {exc}", path=self.config_path,
                             hint="fix the syntax; see README for the settings") from None
        for name, example in TEXT_SETTINGS.items():  # read as text everywhere (`.upper()`)
            value = config.get(name)
            if value is not None and not isinstance(value, str):
                raise UsageError(f"{name} = {value!r} is not text", path=self.config_path,
                                 hint=f"write it in quotes, e.g. {name} = \"{example}\"")
        return config

    def hours(self) -> pl.DataFrame:
        """Timesheet rows from `ledger hours import` plus `[[hours]]` in ledger.toml."""
        import polars as pl

        from ledger import hours

        sheet = pl.read_parquet(self.hours_path, glob=False) if self.hours_path.exists() \
            else hours.empty()
        return pl.concat([sheet, hours.from_config(self.config().get("hours", []))])

    def active_imports(self, event: str = "import") -> list[dict]:
        """The first entry of each import still in effect (not undone), in first-import order.

        `event` is "import" for exports (ledger rows) or "hours" for timesheets."""
        order: list[str] = []
        latest: dict[str, dict] = {}
        for entry in self.log():
            import_id = entry["import_id"]
            if entry.get("event") not in ("undo", event):
                continue
            if entry.get("event") == "undo":
                latest.pop(import_id, None)
                if import_id in order:
                    order.remove(import_id)
                continue
            if import_id not in latest:  # a re-import of the same bytes adds nothing: the
                order.append(import_id)  # first entry (its rows, its options) stays in effect
                latest[import_id] = entry
        return [latest[i] for i in order]

    # --- writing ------------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT_S)
        try:
            with lock:
                yield
        except OSError as exc:
            if exc.filename and Path(exc.filename).absolute() == self.lock_path.absolute():
                exc.filename = str(self.root)  # taking the lock is the first write: name the
            raise  # ledger, not its lock file
        except Timeout:
            raise DataError("another ledger command is writing to this ledger", path=self.root,
                            hint="wait for it to finish, then try again") from None

    def parse(self, paths: Sequence[Path], options: ImportOptions,
              source: str | None = None,
              progress: Callable[[Path], None] | None = None,
              stager: _ArchiveStager | None = None) -> list[tuple[Path, bytes, Parsed]]:
        """Read and parse every file. Nothing is written but, given a `stager`, temporary
        archive copies that a failed import removes."""
        from importers import registry

        parsed = []
        for path in paths:
            raw = registry.read(Path(path))
            if stager:
                stager.stage(f"{raw.sha256}{_suffix(Path(path))}", raw.data)
            parsed.append((Path(path), raw.data, registry.parse(
                raw, options, source, profile_dirs=[self.root / "profiles"])))
            if progress:
                progress(Path(path))
        return parsed

    def import_files(self, paths: Sequence[Path], options: ImportOptions, *,
                     source: str | None = None, dry_run: bool = False,
                     progress: Callable[[Path], None] | None = None) -> list[ImportSummary]:
        """Import files: all or nothing, idempotent (rows already present are not added again)."""
        options.check()
        if dry_run:
            return self._merge(self.stored_rows(), self.parse(paths, options, source, progress),
                               options)[1]
        stager = _ArchiveStager(self.sources)
        try:
            parsed = self.parse(paths, options, source, progress, stager)
            with self.locked():
                existing = self.stored_rows()
                combined, summaries = self._merge(existing, parsed, options)
                profiles = [_profile_archive(result.profile) for _, _, result in parsed]
                entries = [self._entry("import", s, options, source, profile=name)
                           for s, (name, _) in zip(summaries, profiles, strict=True)]
                self._commit(combined, entries, [(p, data, s.import_id)
                                                 for (p, data, _), s in zip(parsed, summaries,
                                                                             strict=True)],
                             archives=[(name, text) for name, text in profiles if name],
                             stager=stager)
        finally:
            stager.close()
        return summaries

    def _merge(self, existing: pl.DataFrame, parsed: list[tuple[Path, bytes, Parsed]],
               options: ImportOptions) -> tuple[pl.DataFrame, list[ImportSummary]]:
        import polars as pl

        frames = [existing]
        seen = existing.select("id")
        summaries = []
        for path, data, result in parsed:
            new = result.rows.join(seen, on="id", how="anti") if seen.height else result.rows
            frames.append(new)
            seen = pl.concat([seen, new.select("id")])
            summaries.append(ImportSummary(
                path=str(path), import_id=result.import_id or hashlib.sha256(data).hexdigest(),
                format=result.format, rows_read=result.rows_read, rows=result.rows.height,
                added=new.height, duplicates=result.rows.height - new.height,
                skipped=result.skipped, warnings=result.warnings))
        combined = pl.concat(frames)
        if not combined["date"].is_sorted():  # a stable sort of sorted rows changes nothing
            combined = combined.sort("date", maintain_order=True)
        return combined, summaries

    def _entry(self, event: str, summary: ImportSummary, options: ImportOptions,
               source: str | None, profile: str | None = None) -> dict:
        path = Path(summary.path)
        return {
            "event": event,
            "import_id": summary.import_id,
            "file": path.name,
            "archived": f"sources/{summary.import_id}{_suffix(path)}",
            **({"profile": profile} if profile else {}),
            "format": summary.format,
            "source_option": source,
            "options": options.as_dict(),
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "rows_read": summary.rows_read,
            "added": summary.added,
            "duplicates": summary.duplicates,
            "skipped": summary.skipped,
        }

    def _commit(self, rows: pl.DataFrame, entries: list[dict],
                files: list[tuple[Path, bytes, str]], target: Path | None = None, *,
                archives: Sequence[tuple[str, bytes]] = (),
                stager: _ArchiveStager | None = None) -> None:
        """Archive sources (and `archives`: path under the ledger dir, bytes, e.g. the profiles
        they were read with), then the log, then the rows; on any failure, put all back.
        Sources the `stager` already copied are renamed into place rather than written."""
        from ledger import schema

        target = target or self.rows_path
        if target == self.rows_path:
            schema.validate(rows, str(self.rows_path))
        rollback = _Rollback()
        try:
            _checkpoint("start")
            self.sources.mkdir(parents=True, exist_ok=True)
            writes = [(self.sources / f"{import_id}{_suffix(path)}", data)
                      for path, data, import_id in files]
            writes += [(self.root / name, data) for name, data in archives]
            for archived, data in writes:
                if not archived.exists():
                    rollback.created.append(archived)
                    copy = stager.take(archived.name) if stager else None
                    if copy is None:
                        atomic_write_bytes(archived, data)
                    else:  # written and fsynced while the files were parsed
                        _rename_into_place(copy, archived)
                    archived.chmod(0o444)
                _checkpoint("archived")
            staged = target.with_name(f".{target.name}.{os.getpid()}.staged")
            rollback.created.append(staged)
            log = self.committed_log()  # drops entries of a commit that was killed midway

            def logged(digest: str) -> bytes:
                return log + "".join(json.dumps({**e, "ledger_sha256": digest}) + "\n"
                                     for e in entries).encode("utf-8")

            length = len(logged("0" * 64))  # a sha256 is 64 hex digits whatever its value
            _os_errors(lambda tmp: rows.write_parquet(tmp, compression="lz4", statistics=True,
                       metadata={LOG_MARK: str(length), **schema.marks(rows)}), staged, target)
            new_log = logged(_sha256_file(staged))
            assert len(new_log) == length
            rollback.write(self.log_path, new_log)
            _checkpoint("logged")
            rollback.replace(target, staged)
            _checkpoint("committed")
        except BaseException as exc:
            try:
                rollback.undo()
            except OSError:  # the same full or read-only disk: report the first failure
                if not isinstance(exc, OSError):
                    raise
            if isinstance(exc, OSError) and exc.errno is not None:  # a full disk, not a bug
                exc.filename = exc.filename or str(self.root)
                raise os_error(exc, "cannot write to the ledger") from None
            raise

    def import_hours(self, paths: Sequence[Path], options: ImportOptions, *,
                     dry_run: bool = False) -> list[ImportSummary]:
        """Import timesheets: all or nothing, each entry once (same rules as exports)."""
        import polars as pl

        from importers import registry
        from ledger import hours

        options.check()
        parsed = []
        for path in paths:
            raw = registry.read(Path(path))
            rows, layout = hours.parse(raw, options)
            parsed.append((Path(path), raw, rows, layout))
        with self.locked() if not dry_run else nullcontext():
            existing = pl.read_parquet(self.hours_path, glob=False) if self.hours_path.exists() \
                else hours.empty()
            seen = existing.select("id")
            frames, summaries = [existing], []
            for path, raw, rows, layout in parsed:
                new = rows.join(seen, on="id", how="anti")
                seen = pl.concat([seen, new.select("id")])
                frames.append(new)
                summaries.append(ImportSummary(
                    path=str(path), import_id=raw.sha256, format=f"hours:{layout}",
                    rows_read=rows.height, rows=rows.height, added=new.height,
                    duplicates=rows.height - new.height))
            if dry_run:
                return summaries
            combined = pl.concat(frames).sort("date", maintain_order=True)
            entries = [{**self._entry("hours", s, options, None)} for s in summaries]
            self._commit(combined, entries, [(p, raw.data, raw.sha256)
                                             for p, raw, _, _ in parsed], self.hours_path)
        return summaries

    def undo(self, import_id: str) -> dict:
        """Remove one import: the ledger is rebuilt from every other import still in effect."""
        with self.locked():
            active = self.active_imports() + self.active_imports("hours")
            matches = [e for e in active if e["import_id"].startswith(import_id)]
            if not import_id or len(matches) != 1:
                known = ", ".join(e["import_id"][:12] for e in active) or "none"
                what = "matches several imports" if matches else "is not an import in effect"
                raise UsageError(f"{import_id!r} {what}", path=self.log_path,
                                 hint=f"imports in effect: {known} (see `ledger imports`)")
            target = matches[0]
            entry = {"event": "undo", "import_id": target["import_id"], "file": target["file"],
                     "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
            if target["event"] == "hours":
                keep = [e for e in self.active_imports("hours")
                        if e["import_id"] != target["import_id"]]
                sheet = self._reparse_hours(keep)
                before = self.hours()
                entry["removed"] = before.filter(before["origin"] == "source").height \
                    - sheet.height
                self._commit(sheet, [entry], [], self.hours_path)
                return entry
            keep = [e for e in self.active_imports() if e["import_id"] != target["import_id"]]
            rows, _ = self._reparse(keep)
            entry["removed"] = self.stored_rows().height - rows.height
            self._commit(rows, [entry], [])
            return entry

    def rebuild(self) -> dict:
        """Re-parse every archived source in effect with today's importers and rewrite the rows.

        A file imported through a user's bank profile is read with the profile's archived copy:
        to read it with an edited profile, `ledger undo` it and import it again."""
        with self.locked():
            return self._rebuild_locked()

    def _rebuild_locked(self) -> dict:
        from ledger import schema
        active = self.active_imports()
        rows, counts = self._reparse(active)
        try:
            before: int | None = self.stored_rows().height
        except DataError:  # a damaged or older-version ledger is what rebuild is for
            before = schema.stored_count(self.rows_path)
        entry = {"event": "rebuild", "import_id": "", "file": "",
                 "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                 "imports": len(active), "rows_before": before, "rows": rows.height}
        self._commit(rows, [entry], [])
        hour_imports = self.active_imports("hours")
        if hour_imports or self.hours_path.exists():
            self._commit(self._reparse_hours(hour_imports), [], [], self.hours_path)
        return {**entry, "per_import": counts}

    def doctor(self, repair: bool = True) -> list[dict]:
        """Check that the directory is one consistent state, and put it right where it can.

        Finds what an interrupted (killed) write leaves: log entries no parquet vouches for,
        staged and temporary files, archived sources no import refers to; and what nothing
        but the user can fix: a source an import needs that is missing or altered. A ledger
        that cannot be read is rebuilt from the archived sources. Each finding is a dict
        (problem, path, repaired, hint)."""
        findings: list[dict] = []

        def found(problem: str, path: Path, repaired: bool, hint: str = "") -> None:
            findings.append({"problem": problem, "path": str(path), "repaired": repaired,
                             "hint": hint})

        if not self.root.exists():
            return findings
        with self.locked() if repair else nullcontext():
            committed = self.committed_log()
            whole = self.log_path.read_bytes() if self.log_path.exists() else b""
            if len(whole) > len(committed):
                tail = whole[len(committed):].decode("utf-8", "replace").count("\n")
                if repair:
                    atomic_write_bytes(self.log_path, committed)
                found(f"{tail} log entr{'y' if tail == 1 else 'ies'} of an interrupted write",
                      self.log_path, repair)
            for leftover in sorted([*self.root.glob(".*.staged"), *self.root.glob(".*.tmp"),
                                    *self.sources.glob(".*.tmp")]):
                if _writer_running(leftover):  # an import still parsing stages its copies
                    continue  # before it takes the lock: not abandoned, not ours to delete
                if repair:
                    leftover.unlink()
                found("file left by an interrupted write", leftover, repair)
            entries = self.log()
            needed = {e["archived"]: e for e in entries if e.get("archived")}
            profiles = {e["profile"]: e for e in entries if e.get("profile")}
            active = {e["import_id"] for e in [*self.active_imports(),
                                               *self.active_imports("hours")]}
            for archived, entry in needed.items():
                path = self.root / archived
                if entry["import_id"] not in active:
                    continue
                if not path.exists():
                    found(f"archived source of {entry['file']} is missing", path, False,
                          f"import {entry['file']} again after `ledger undo "
                          f"{entry['import_id'][:12]}`")
                elif _sha256_file(path) != entry["import_id"]:
                    found(f"archived source of {entry['file']} was altered", path, False,
                          f"restore it, or `ledger undo {entry['import_id'][:12]}` and import "
                          f"{entry['file']} again")
            for archived, entry in profiles.items():
                path = self.root / archived
                if entry["import_id"] not in active:
                    continue
                if not path.exists() or _sha256_file(path) != path.name.split(".")[0]:
                    what = "altered" if path.exists() else "missing"
                    found(f"archived bank profile of {entry['file']} is {what}", path, False,
                          f"restore it, or `ledger undo {entry['import_id'][:12]}` and import "
                          f"{entry['file']} again")
            if self.sources.exists():
                for path in sorted(self.sources.iterdir()):
                    if path.is_file() and not path.name.startswith(".") \
                            and f"sources/{path.name}" not in needed \
                            and f"sources/{path.name}" not in profiles:
                        if repair:
                            path.chmod(0o600)
                            path.unlink()
                        found("archived source no import refers to", path, repair)
            for reader, target in ((self.stored_rows, self.rows_path),
                                   (self.hours, self.hours_path)):
                try:
                    reader()
                except DataError as exc:
                    broken = not any(f["repaired"] is False for f in findings)
                    if repair and broken:
                        self._rebuild_locked()
                    found(f"cannot be read ({exc.message})", target, repair and broken,
                          "" if broken else "fix the sources first, then `ledger rebuild`")
                    break
        return findings

    def _reparse_hours(self, entries: list[dict]) -> pl.DataFrame:
        import polars as pl

        from importers import registry
        from importers.base import ImportOptions
        from ledger import hours

        sheet = hours.empty()
        for entry in entries:
            raw = registry.read(self.root / entry["archived"])
            raw.path = Path(entry["file"])
            rows, _ = hours.parse(raw, ImportOptions.from_dict(entry.get("options", {})))
            sheet = pl.concat([sheet, rows.join(sheet.select("id"), on="id", how="anti")])
        return sheet.sort("date", maintain_order=True)

    def _archived_profile(self, entry: dict) -> Format | None:
        """The format of the user bank profile an import was read with, from its archived
        copy (editing or deleting the profile later changes no imported row); None if the
        import used a built-in format or predates profile archiving."""
        if not entry.get("profile"):
            return None
        from importers.bank import as_format, profile_from_text

        path = self.root / entry["profile"]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            raise DataError(f"the archived bank profile of {entry['file']} is missing",
                            path=path, hint="restore it from a backup, or `ledger undo "
                            f"{entry['import_id'][:12]}` and import the file again") from None
        return as_format(profile_from_text(text, path))

    def _reparse(self, entries: list[dict]) -> tuple[pl.DataFrame, dict[str, int]]:
        from importers import registry
        from importers.base import ImportOptions
        from ledger import schema

        rows = schema.empty()
        counts: dict[str, int] = {}
        for entry in entries:
            archived = self.root / entry["archived"]
            if not archived.exists():
                raise DataError("archived source is missing", path=archived,
                                hint="restore it from a backup or `ledger undo` that import")
            raw = registry.read(archived)
            raw.path = Path(entry["file"])
            options = ImportOptions.from_dict(entry.get("options", {}))
            parsed = registry.parse(raw, options, entry.get("source_option"),
                                    profile_dirs=[self.root / "profiles"],
                                    fmt=self._archived_profile(entry))
            rows, summaries = self._merge(rows, [(archived, raw.data, parsed)], options)
            counts[entry["import_id"]] = summaries[0].added
        return rows, counts


def _profile_archive(text: str | None) -> tuple[str | None, bytes]:
    """(path under the ledger dir, bytes) a user profile's text is archived as: named by its
    sha256, so imports read with the same profile share one copy. (None, b"") for no text."""
    if text is None:
        return None, b""
    data = text.encode("utf-8")
    return f"sources/{hashlib.sha256(data).hexdigest()}.profile.toml", data


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if suffix and len(suffix) <= 6 and suffix[1:].isalnum() else ".dat"


def _writer_running(path: Path) -> bool:
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


def _log_mark(path: Path) -> int | None:
    """The log length a parquet vouches for; None if it has no mark or cannot be read."""
    import polars as pl

    try:
        mark = pl.read_parquet_metadata(path).get(LOG_MARK)
    except Exception:  # a damaged file: rows() reports it, with the way out
        return None
    return int(mark) if mark and mark.isdigit() else None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
