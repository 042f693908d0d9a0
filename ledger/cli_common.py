"""What every `ledger` command shares: the global options' state, the output formats, the
console, the ledger the options select and where output goes. The command modules (cli*.py)
import this, never each other's privates, so the CLI has no import cycles."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.store import ImportSummary

STATE: dict[str, object] = {"ledger": None, "debug": False}
"""The global options (`--ledger`, `--debug`), set by the app's callback."""


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
    """What `ledger import` can print: a summary per file, not rows."""

    table = "table"
    json = "json"


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False, emoji=False)


def open_ledger():
    """The ledger `--ledger`, $LEDGER_DIR or the user data folder selects."""
    from ledger.store import Ledger, resolve_dir

    return Ledger(resolve_dir(STATE["ledger"]))  # type: ignore[arg-type]


def emit(text: str, output: Path | None) -> None:
    """Text to stdout, or atomically to `output` (saying where it went)."""
    if output is None:
        sys.stdout.write(text)
        return
    from ledger.store import atomic_write_bytes

    atomic_write_bytes(output, text.encode("utf-8"))
    console(stderr=True).print(f"wrote {output}", markup=False)


def import_line(s: ImportSummary, name: str) -> str:
    """`paypal_Download.CSV: paypal, 11 rows read, 13 ledger rows added (fees become their
    own rows), 0 already in the ledger`: file rows and ledger rows named apart, since one row
    with a fee becomes two."""
    skipped = ", ".join(f"{n} {why}" for why, n in s.skipped.items())
    why = " (fees become their own rows)" if s.rows > s.rows_read else ""
    return (f"{name}: {s.format}, {s.rows_read} rows read, [bold]{s.added} ledger rows "
            f"added[/]{why}, {s.duplicates} already in the ledger"
            + (f", skipped {skipped}" if skipped else ""))
