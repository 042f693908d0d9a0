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


def version_line(installed: str | None, schema: int) -> str:
    """`ledger --version`: the installed freelance-ledger's version (None: not installed,
    run from a source tree) and the version of the rows ledger.parquet stores."""
    return (f"ledger (freelance-ledger) {installed or 'unknown: not installed'}, "
            f"ledger schema {schema}")


HINT = "  hint: "


def error_text(message: str, hint: str | None, width: int) -> str:
    """An error as the CLI prints it: `message` (`path:line: what is wrong`) on its own line,
    then `  hint: ...` wrapped between words at `width` (its next lines under the hint's
    first word; a word longer than the line is left whole)."""
    if not hint:
        return message + "\n"
    import textwrap

    indent = " " * len(HINT)
    lines = [textwrap.fill(part, max(width, len(HINT) + 20), initial_indent=HINT if n == 0
                           else indent, subsequent_indent=indent, break_long_words=False,
                           break_on_hyphens=False) or indent.rstrip()
             for n, part in enumerate(hint.split("\n"))]
    return message + "\n" + "\n".join(lines) + "\n"
