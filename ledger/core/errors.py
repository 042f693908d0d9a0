"""One error type the CLI prints as `path:line: message` plus a hint, never a traceback."""

from __future__ import annotations

from pathlib import Path

DATA_ERROR = 1
USAGE_ERROR = 2


class LedgerError(Exception):
    """A problem the user can fix. `exit_code` 1 is bad data, 2 is bad usage or config."""

    exit_code = DATA_ERROR

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.hint = hint

    def where(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "

    def __str__(self) -> str:
        text = f"{self.where()}{self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class DataError(LedgerError):
    """A file, row or rate is wrong or missing (exit 1)."""


class UsageError(LedgerError):
    """An option, argument or config value is wrong (exit 2)."""

    exit_code = USAGE_ERROR


_OS_HINTS = {
    "EROFS": "the file system is read-only: use a writable folder (e.g. --ledger DIR) or "
    "remount it",
    "ENOSPC": "free some space, then run the command again",
    "EDQUOT": "free some space, then run the command again",
    "EFBIG": "the file-size limit was reached: raise it (ulimit -f) or free space, then run "
    "the command again",
    "EACCES": "fix the folder's permissions, or use another one with --ledger DIR",
    "EPERM": "fix the folder's permissions, or use another one with --ledger DIR",
    "ENOTDIR": "a part of the path is a file, not a folder: check the path",
    "EISDIR": "give a file path, not a folder",
    "EIO": "the disk may be full or a file-size limit reached (ulimit -f): free space, then "
    "run the command again",
}


def os_error(exc: OSError, action: str | None = None) -> LedgerError:
    """An OSError from the file system (read-only, full, size limit, permissions) as a
    DataError naming the path and what to do: the environment, not a bug. Callers have
    undone their writes, so the hint can say nothing was changed."""
    import errno as errnos

    name = errnos.errorcode.get(exc.errno or 0, "")
    if action is None:  # these only a write meets
        writing = name in ("EROFS", "ENOSPC", "EDQUOT", "EFBIG")
        action = "cannot write" if writing else "cannot use it"
    hint = _OS_HINTS.get(name, "fix the problem, then run the command again")
    return DataError(f"{action}: {exc.strerror or exc}", path=exc.filename,
                     hint=f"nothing was changed; {hint}")


def polars_os_error(exc: Exception, path: str | Path) -> OSError | None:
    """The OSError inside a polars write error (`... (os error 28)`), or None if it is not
    one: polars reports a full disk or a file-size limit as a ComputeError."""
    import os
    import re

    match = re.search(r"\(os error (\d+)\)", str(exc))
    if not match:
        return None
    number = int(match.group(1))
    return OSError(number, os.strerror(number), str(path))
