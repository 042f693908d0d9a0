"""`ledger hours` output: the timesheets imported, and the hours per client for a period
(paid, where they were counted from, unpaid by kind); the console is passed in."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.store.directory import ImportSummary


def print_imported(summaries: list[ImportSummary], console, dry_run: bool) -> None:
    """`ledger hours import`: a line per timesheet (entries read, added, already there)."""
    from ledger.render.report import lit

    for s in summaries:
        console.print(f"{lit(s.path)}: {s.format}, {s.rows_read} entries read, "
                      f"[bold]{s.added} added[/], {s.duplicates} already in the ledger")
    if dry_run:
        console.print("[dim]dry run: nothing was written[/]")


def print_hours(table: list[dict], label: str, console) -> None:
    """`ledger hours show`: one row per client; where paid hours were counted from is
    dropped first on a narrow terminal. Hours are shown as counted (no money, no locale)."""
    from importers.hours import UNPAID
    from ledger.render.fit import Col, F, fit_table

    console.print(fit_table(
        [Col("Client"), F("Paid"), Col("Counted from", drop=1),
         *(F(col.capitalize()) for col in UNPAID)],
        [[row["client"] or "(no client)", row["paid"], row["paid_from"],
          *(row[k] for k in UNPAID)] for row in table], title=f"Hours, {label}"))
