"""`ledger formats` output: the export formats the importer knows (bundled and the user's
bank profiles) as a table or CSV; the console or stream is passed in."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

COLUMNS = ("name", "title", "fingerprint", "origin")


def write_csv(rows: list[dict], stream: TextIO) -> None:
    """One row per format, cells made safe for spreadsheets."""
    import csv

    from ledger.render.report import safe_cell

    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(list(COLUMNS))
    for row in rows:
        writer.writerow([safe_cell(row[k]) for k in COLUMNS])


def print_formats(rows: list[dict], profiles: Path, console) -> None:
    """The formats as a table (how each is recognised dropped first when narrow), then where
    the user's own profiles live."""
    from ledger.render.fit import Col, fit_table

    console.print(fit_table(
        [Col("Name", min_width=12), Col("What", min_width=12),
         Col("Recognised by", min_width=16, drop=1), Col("From", min_width=7)],
        [[row["name"], row["title"], row["fingerprint"], row["origin"]] for row in rows]))
    mine = sum(row["user"] for row in rows)
    console.print(f"your profiles ({mine}): {profiles}"
                  + ("" if mine else " (none yet; `ledger formats new FILE` drafts one)"),
                  markup=False)
