"""What every `ledger` command shares: the global options' state, the output formats, the
console, the ledger the options select and where output goes. The command modules (cli/*.py)
import this, never each other's privates, so the CLI has no import cycles."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path

STATE: dict[str, object] = {"ledger": None, "debug": False, "width": None}
"""The global options (`--ledger`, `--debug`, `--width`), set by the app's callback."""

PIPED_WIDTH = 100
"""The width of output that goes to a file or a pipe (no terminal to ask, no $COLUMNS)."""


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


class RowsFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class SummaryFormat(StrEnum):
    """Table or JSON: for output that has no rows to write as CSV (an import's summary per file,
    the fee check, a quote, the user's rules)."""

    table = "table"
    json = "json"


def width(stderr: bool = False, piped: int = PIPED_WIDTH) -> int:
    """The columns output is laid out for: `--width` (or $LEDGER_WIDTH), else the terminal's
    width, else $COLUMNS, else `piped`: 100 (a file or a pipe: wide enough that tables keep
    their columns and prose is not broken at 80), 80 for an error's hint."""
    chosen = STATE.get("width")
    if chosen:
        return int(chosen)  # type: ignore[call-overload]
    stream = sys.stderr if stderr else sys.stdout
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # a replaced stream (tests) has no fileno
        pass
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return piped


def console(stderr: bool = False):
    """The console every command prints with: tables lay themselves out for its width
    (ledger.render_fit) and prose wraps there at word boundaries. Where no styles would show
    (a pipe, a file), a PlainConsole: the same characters without importing rich's console
    until something needs it (ledger.render.plain_console)."""
    from ledger.render.plain_console import PlainConsole, rich_console, shows_no_styles

    if shows_no_styles(sys.stderr if stderr else sys.stdout):
        return PlainConsole(stderr, width(stderr))
    return rich_console(stderr=stderr, highlight=False, soft_wrap=False, emoji=False,
                        width=width(stderr))


def open_ledger(missing_ok: bool = False):
    """The ledger `--ledger`, $LEDGER_DIR or the user data folder selects; a folder that does
    not exist is refused (`no ledger at PATH`, exit 2: ledger.store.directory.existing)
    unless `missing_ok`: the command creates the ledger (import, init, hours import,
    formats new) or reads only what a ledger may add to bundled data (formats, benchmarks,
    quote, rates show)."""
    from ledger.store.directory import Ledger, existing, resolve_dir

    root = resolve_dir(STATE["ledger"])  # type: ignore[arg-type]
    return Ledger(root if missing_ok else existing(root, STATE["ledger"]))  # type: ignore[arg-type]


def emit(text: str, output: Path | None) -> None:
    """Text to stdout, or atomically to `output` (saying where it went)."""
    if output is None:
        sys.stdout.write(text)
        return
    from ledger.render.status import wrote
    from ledger.store.directory import atomic_write_bytes

    atomic_write_bytes(output, text.encode("utf-8"))
    console(stderr=True).print(wrote(output), markup=False)
