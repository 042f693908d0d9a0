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
