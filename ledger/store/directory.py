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
<dir>/.rule-hits.arrow          the rows each [[rules]] matches, kept between commands (a cache)
```

Nothing is lost: every file is parsed and validated before anything is written; writes go to
a temp file, are fsynced and renamed into place under the lock; and if any step fails, every
file already touched is put back as it was, so a failed import leaves the directory
byte-identical. Each log entry records the sha256 of the ledger it produced, so a crash
between the two renames is detectable (the entry whose hash does not match was not committed).

This module keeps the directory consistent; it reads no export. Writing a file safely is
ledger.files; reading exports and timesheets into a commit is ledger.importing, which the
Ledger's import_files, import_hours, undo and rebuild hand over to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.core import files
from ledger.core.errors import DataError, UsageError, os_error
from ledger.core.files import atomic_write, atomic_write_bytes  # noqa: F401  (where callers find them)

if TYPE_CHECKING:
    import polars as pl

    from importers.base import ImportOptions
    from ledger.core.config import Config
    from ledger.store.importing import ImportSummary

APP = "freelance-ledger"
LOCK_TIMEOUT_S = 60
LOG_MARK = "freelance_ledger.log_bytes"
"""Parquet metadata key: the length of imports.jsonl the file was committed with."""


def __getattr__(name: str) -> Any:
    """`ImportSummary`, where callers find it, imported when asked for: a report never needs
    ledger.store.importing (its module and dataclass, ~1 ms of every command)."""
    if name == "ImportSummary":
        from ledger.store.importing import ImportSummary

        return ImportSummary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


def existing(root: Path, option: str | Path | None = None) -> Path:
    """`root` (from `resolve_dir(option)`) when a ledger is there; else a UsageError naming
    it and what chose it. A command that reads a ledger asks this first, so a mistyped
    --ledger or $LEDGER_DIR is said as such, instead of read as a ledger with no rows (an
    empty table, "the ledger is empty", "consistent") or created by a lock or a rebuild.
    A folder is a ledger once it exists (made by `ledger import`, `init`, `hours import`,
    `formats new` or by hand): one without rows is an empty ledger, not a missing one."""
    if root.is_dir():
        return root
    if option:
        chose = "--ledger names this folder: check the path"
    elif os.environ.get("LEDGER_DIR"):
        chose = "$LEDGER_DIR names this folder: check it (or give --ledger DIR)"
    else:
        chose = "it is the default folder (no --ledger DIR or $LEDGER_DIR given)"
    raise UsageError(f"no ledger at {root}",
                     hint=f"{chose}; `ledger import FILE` creates a ledger there")


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
        files.fsync(staged)
        files.rename_into_place(staged, path)

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
        self._stored_stamp: str | None = None
        self.read: tuple[Any, str | None, str] | None = None
        """`rows()`' last answer (weakly), its file's `checked.stamp` and ledger.toml's text."""

    # --- reading ------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.rows_path.exists()

    def rows(self) -> pl.DataFrame:
        """All canonical rows as every command counts them: the stored rows with the user's
        `[[rules]]` of ledger.toml applied (ledger.core.rule_apply), never written back."""
        import weakref

        from ledger.core import rule_apply
        from ledger.store import rule_hits

        before = rule_hits.stamp(self.rows_path)  # before reading: see rule_hits.hits
        rows = self.stored_rows()
        config = self.settings()
        rules = list(config.rules)
        if rules and not rows.is_empty():
            found = rule_hits.hits(self.root, self.rows_path, before, rows, rules)
            rows = rule_apply.apply(rows, rules, found)
        # what these rows were read from (ledger.counting.kept keys counting them on it)
        self.read = (weakref.ref(rows), self._stored_stamp, config.text)
        return rows

    def stored_rows(self) -> pl.DataFrame:
        """The rows as imported (empty, typed, if nothing was imported yet)."""
        import polars as pl

        from ledger.core import schema
        from ledger.store import checked

        if not self.rows_path.exists():
            return schema.empty()
        before = checked.stamp(self.rows_path)  # before reading: see checked.remember
        try:
            df = pl.read_parquet(self.rows_path, glob=False)
        except Exception as exc:  # polars raises several error types for a damaged file
            raise DataError(f"cannot read the ledger: {exc}", path=self.rows_path,
                            hint="run `ledger rebuild` to re-create it from the archived sources"
                            ) from None
        after = checked.stamp(self.rows_path)  # the same file before and after the read
        self._stored_stamp = before if before == after else None
        ids_known = before == after and checked.known(self.root, before)
        rows = schema.stored(df, self.rows_path, ids_known=ids_known)
        if not ids_known:
            checked.remember(self.root, before, after)
        return rows

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

    def settings(self) -> Config:
        """ledger.toml read and checked in one pass (ledger.core.config): what library functions
        take instead of the store's files. Parsed and checked once per text, however often a
        command asks (an edit between two asks is seen: the small file is read each time)."""
        from ledger.core import config

        return config.load(self.config_path)

    def hours(self) -> pl.DataFrame:
        """Timesheet rows from `ledger hours import` plus `[[hours]]` in ledger.toml."""
        import polars as pl

        from importers import hours

        sheet = pl.read_parquet(self.hours_path, glob=False) if self.hours_path.exists() \
            else hours.empty()
        return pl.concat([sheet, hours.from_config(list(self.settings().hours))])

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

    def import_files(self, paths: Sequence[Path], options: ImportOptions, *,
                     source: str | None = None, dry_run: bool = False,
                     progress: Callable[[Path], None] | None = None,
                     options_of: Mapping[Path, ImportOptions] | None = None
                     ) -> list[ImportSummary]:
        """Import files: all or nothing, idempotent (ledger.store.importing.import_files;
        `options_of`: files read with options of their own)."""
        from ledger.store import importing

        return importing.import_files(self, paths, options, source=source, dry_run=dry_run,
                                      progress=progress, options_of=options_of)

    def commit(self, rows: pl.DataFrame, entries: list[dict], target: Path | None = None, *,
               archives: Sequence[tuple[str, bytes | Callable[[], bytes]]] = (),
               stager: files.ArchiveStager | None = None, ids_known: bool = False) -> None:
        """Archive `archives` (path under the ledger dir, bytes: the sources and the profiles
        they were read with), then the log, then the rows; on any failure, put all back.
        Sources the `stager` already copied are renamed into place rather than written (their
        bytes may then be a function, called only should the staged copy have gone).
        `ids_known`: `rows` are the stored rows as read (an import that added nothing), whose
        ids the read proved distinct: that check is not run again (schema.validate)."""
        from ledger.core import schema

        target = target or self.rows_path
        if target == self.rows_path:
            schema.validate(rows, str(self.rows_path), ids_known=ids_known)
        rollback = _Rollback()
        try:
            files.checkpoint("start")
            self.sources.mkdir(parents=True, exist_ok=True)
            for name, data in archives:
                archived = self.root / name
                if not archived.exists():
                    rollback.created.append(archived)
                    copy = stager.take(archived.name) if stager else None
                    if copy is None:
                        atomic_write_bytes(archived, data() if callable(data) else data)
                    else:  # written and fsynced while the files were parsed
                        files.rename_into_place(copy, archived)
                    archived.chmod(0o444)
                files.checkpoint("archived")
            staged = target.with_name(f".{target.name}.{os.getpid()}.staged")
            rollback.created.append(staged)
            log = self.committed_log()  # drops entries of a commit that was killed midway

            def logged(digest: str) -> bytes:
                return log + "".join(json.dumps({**e, "ledger_sha256": digest}) + "\n"
                                     for e in entries).encode("utf-8")

            length = len(logged("0" * 64))  # a sha256 is 64 hex digits whatever its value
            files.os_errors(lambda tmp: rows.write_parquet(
                tmp, compression="lz4", statistics=True,
                metadata={LOG_MARK: str(length), **schema.marks(rows)}), staged, target)
            new_log = logged(files.sha256_file(staged))
            assert len(new_log) == length
            rollback.write(self.log_path, new_log)
            files.checkpoint("logged")
            rollback.replace(target, staged)
            files.checkpoint("committed")
            if target == self.rows_path:  # validated above: the next read need not hash ids
                from ledger.store import checked

                now = checked.stamp(target)
                checked.remember(self.root, now, now)
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
        """Import timesheets: all or nothing (ledger.store.importing.import_hours)."""
        from ledger.store import importing

        return importing.import_hours(self, paths, options, dry_run=dry_run)

    def undo(self, import_id: str) -> dict:
        """Remove one import (ledger.store.importing.undo)."""
        from ledger.store import importing

        return importing.undo(self, import_id)

    def rebuild(self) -> dict:
        """Re-parse every archived source in effect (ledger.store.importing.rebuild)."""
        from ledger.store import importing

        return importing.rebuild(self)


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
                if files.writer_running(leftover):  # an import still parsing stages its copies
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
                elif files.sha256_file(path) != entry["import_id"]:
                    found(f"archived source of {entry['file']} was altered", path, False,
                          f"restore it, or `ledger undo {entry['import_id'][:12]}` and import "
                          f"{entry['file']} again")
            for archived, entry in profiles.items():
                path = self.root / archived
                if entry["import_id"] not in active:
                    continue
                if not path.exists() or files.sha256_file(path) != path.name.split(".")[0]:
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
                        from ledger.store import importing

                        importing.rebuild_locked(self)
                    found(f"cannot be read ({exc.message})", target, repair and broken,
                          "" if broken else "fix the sources first, then `ledger rebuild`")
                    break
        return findings



def _log_mark(path: Path) -> int | None:
    """The log length a parquet vouches for; None if it has no mark or cannot be read."""
    import polars as pl

    try:
        mark = pl.read_parquet_metadata(path).get(LOG_MARK)
    except Exception:  # a damaged file: rows() reports it, with the way out
        return None
    return int(mark) if mark and mark.isdigit() else None
