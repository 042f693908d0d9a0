"""`ledger demo`: the bundled made-up exports imported into a fresh ledger, then the report."""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

EXPORTS = (
    "statements_2024-04-01_2024-04-30.csv",
    "statements_2024-05-01_2024-05-31.csv",
    "2024-06-30_transaction_report.csv",
    "paypal_Download.CSV",
)
TIMESHEET = "TogglTrack_Report_Detailed_2024-04-01_2024-06-30.csv"
SETTINGS = ("ledger.toml", "rates.csv")


def demo_dir() -> Path:
    return Path(str(resources.files("ledger") / "data" / "demo"))


def run(keep: Path | None, console: Console) -> None:
    """Import the demo exports into `keep` (or a temporary directory) and print the report."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="ledger-demo-") as tmp:
            _run(Path(tmp), console)
        console.print("\n[dim]The demo ledger was temporary. Keep one to explore: "
                      "ledger demo --keep ./demo-ledger[/]")
    else:
        _run(keep, console)
        console.print(f"\n[dim]Explore it: ledger --ledger {keep} report --year 2024 "
                      f"--currency USD · ledger --ledger {keep} transactions --kind fx[/]")


def _run(root: Path, console: Console) -> None:
    from importers.base import ImportOptions
    from ledger import render
    from ledger.report import build
    from ledger.store import Ledger

    source = demo_dir()
    root.mkdir(parents=True, exist_ok=True)
    for name in SETTINGS:
        shutil.copyfile(source / name, root / name)
    ledger = Ledger(root)
    console.print(f"[bold]Demo:[/] a fictional web developer in Lahore; ledger at {root}\n")
    summaries = ledger.import_files([source / n for n in EXPORTS], ImportOptions())
    for s in summaries:
        skipped = ", ".join(f"{n} {why}" for why, n in s.skipped.items())
        console.print(f"imported {Path(s.path).name}: {s.format}, {s.added} rows"
                      + (f" (skipped {skipped})" if skipped else ""))
    for s in ledger.import_hours([source / TIMESHEET], ImportOptions()):
        console.print(f"imported {Path(s.path).name}: {s.format}, {s.added} entries "
                      "(unpaid bidding/admin time, fixed-price hours)")
    console.print()
    render.print_report(build(ledger), console)
