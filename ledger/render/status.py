"""The one-line status messages commands print after they act (`wrote ...`, `note: ...`), worded
once here so every command says the same thing the same way; the CLI passes the facts and prints
the line. Counts are written as plain integers (they are not amounts, and scripts grep them)."""

from __future__ import annotations

from pathlib import Path


def wrote(*paths: Path | str, detail: str | None = None) -> str:
    """`wrote out/summary.csv, out/README.md`: the files `-o`, `init` or `batch` wrote, with
    what is in them after a colon when the command says (`wrote x.journal: 12 rows (2024)`)."""
    return "wrote " + ", ".join(map(str, paths)) + (f": {detail}" if detail else "")


def note(text: str) -> str:
    """`note: ...`: something the user may want to know that is not an error."""
    return f"note: {text}"


def exported(output: Path | str, rows: int, label: str) -> str:
    """`ledger export -o`: the file, how many rows and which period."""
    return wrote(output, detail=f"{rows} rows ({label})")


def nothing_exported(label: str) -> str:
    """`ledger export` of a period without rows: say so, and where to look instead."""
    return note(f"no rows in {label}; `ledger transactions` lists what there is")
