"""`ledger formats` output: the export formats the importer knows (bundled and the user's
bank profiles) as a table or CSV, and what `ledger formats new` drafted; the console or
stream is passed in."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

COLUMNS = ("name", "title", "fingerprint", "origin")


def write_csv(rows: list[dict], stream: TextIO) -> None:
    """One row per format, cells made safe for spreadsheets."""
    from ledger.render.report import records_csv

    stream.write(records_csv(rows, COLUMNS))


def print_formats(rows: list[dict], profiles: Path, console) -> None:
    """The formats as a table (how each is recognised dropped first when narrow), then where
    the user's own profiles live."""
    from ledger.render.fit import Code, Col, fit_table

    console.print(fit_table(
        [Code("Name"), Col("What", min_width=12),
         Col("Recognised by", min_width=16, drop=1), Col("From", min_width=7)],
        [[row["name"], row["title"], row["fingerprint"], row["origin"]] for row in rows]))
    mine = sum(row["user"] for row in rows)
    console.print(f"your profiles ({mine}): {profiles}"
                  + ("" if mine else " (none yet; `ledger formats new FILE` drafts one)"),
                  markup=False)


def draft_notes(target: Path, source: str, name: str, recognised: str | None,
                replaces: bool, todos: list[tuple[int, str]], problem: str | None,
                command: str) -> str:
    """`ledger formats new`: where the draft went, whether the statement was already
    recognised or the draft replaces a bundled profile, the TODO lines to settle, why the
    draft does not load yet, and the command to import with it."""
    out = [f"wrote {target} (a draft profile for {source})"]
    if recognised:
        out.append(f"note: {source} is already recognised as {recognised}; a profile is "
                   "only needed for a layout `ledger formats` does not know")
    if replaces:
        out.append(f"note: it replaces the bundled profile bank:{name} for this ledger")
    if todos:
        out.append(f"settle the TODO on each of these lines of {target.name}:")
        out += [f"  {n}: {line.strip()}" for n, line in todos]
    if problem is not None:
        out.append(f"the draft does not load yet: {problem}")
    out.append(f"then: {command}")
    return "\n".join(out) + "\n"
