"""What `ledger demo` says around the report and the payout journeys: who the demo is, what it
imported, the journeys' heading and how to explore the ledger afterwards (rich markup; the CLI
prints each line with the console it passes to the report)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.store.importing import ImportSummary


def intro(root: Path) -> str:
    """The first line: whose money this is and where the demo ledger lives."""
    return f"[bold]Demo:[/] a fictional web developer in Lahore; ledger at {root}\n"


def imported(s: ImportSummary) -> str:
    """An export the demo imported, as `ledger import` says it, by file name."""
    from ledger.render.ledger_dir import import_line

    return "imported " + import_line(s, Path(s.path).name)


def imported_hours(s: ImportSummary) -> str:
    """The timesheet the demo imported, and what its hours are."""
    return (f"imported {Path(s.path).name}: {s.format}, {s.added} entries "
            "(unpaid bidding/admin time, fixed-price hours)")


def journeys_heading(label: str, month: dt.date, as_of: dt.date) -> str:
    """The heading over the payout journeys, with the `ledger reconcile` command that shows them
    (`month`: the period's first day)."""
    return (f"\n[bold]Payout journeys, {label}[/] (`ledger reconcile --month "
            f"{month:%Y-%m} --as-of {as_of}`): each withdrawal from the platform "
            "or wallet to her bank, what each hop took, and what never arrived\n")


def temporary_hint() -> str:
    """The closing line when the demo ledger was a temporary folder, now gone."""
    return ("\n[dim]The demo ledger was temporary. Keep one to explore: "
            "ledger demo --keep ./demo-ledger[/]")


def explore_hint(keep: Path, as_of: dt.date) -> str:
    """The closing line for a kept demo ledger: commands to try on it."""
    return (f"\n[dim]Explore it: ledger --ledger {keep} report --year 2024 "
            f"--currency USD · ledger --ledger {keep} reconcile --from 2024-04-01 "
            f"--to 2024-06-30 --as-of {as_of} · ledger --ledger {keep} "
            f"transactions --kind fx · ledger --ledger {keep} tax-register "
            "--tax-year 2024 (her tax year, July 2023 to June 2024)[/]")
