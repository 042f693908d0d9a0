"""`ledger demo`: the bundled made-up exports imported into a fresh ledger, then the report and
the payout journeys (`ledger reconcile`) of the latest month."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.config import reading_locale
from ledger.core.demo import AS_OF, EXPORTS, SETTINGS, TIMESHEET, demo_dir

if TYPE_CHECKING:
    from rich.console import Console


def run(keep: Path | None, console: Console) -> None:
    """Import the demo exports into `keep` (or a temporary directory), print the report and
    the payout journeys."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="ledger-demo-") as tmp:
            _run(Path(tmp), console)
        console.print("\n[dim]The demo ledger was temporary. Keep one to explore: "
                      "ledger demo --keep ./demo-ledger[/]")
    else:
        _run(keep, console)
        console.print(f"\n[dim]Explore it: ledger --ledger {keep} report --year 2024 "
                      f"--currency USD · ledger --ledger {keep} reconcile --from 2024-04-01 "
                      f"--to 2024-06-30 --as-of {AS_OF} · ledger --ledger {keep} "
                      f"transactions --kind fx · ledger --ledger {keep} tax-register "
                      "--tax-year 2024 (her tax year, July 2023 to June 2024)[/]")


def _run(root: Path, console: Console) -> None:
    from importers.base import ImportOptions
    from ledger import reconcile
    from ledger.render import report as render
    from ledger.render.ledger_dir import import_line
    from ledger.render.reconcile import print_chains
    from ledger.reports.report import build, resolve_period
    from ledger.store.directory import Ledger

    source = demo_dir()
    root.mkdir(parents=True, exist_ok=True)
    for name in SETTINGS:
        shutil.copyfile(source / name, root / name)
    ledger = Ledger(root)
    console.print(f"[bold]Demo:[/] a fictional web developer in Lahore; ledger at {root}\n")
    summaries = ledger.import_files([source / n for n in EXPORTS], ImportOptions())
    for s in summaries:
        console.print("imported " + import_line(s, Path(s.path).name))
    for s in ledger.import_hours([source / TIMESHEET], ImportOptions()):
        console.print(f"imported {Path(s.path).name}: {s.format}, {s.added} entries "
                      "(unpaid bidding/admin time, fixed-price hours)")
    console.print()
    rows = ledger.rows()
    period = resolve_period(rows)  # the latest month, as `ledger report` chooses it
    render.print_report(build(ledger, period), console)
    console.print(f"\n[bold]Payout journeys, {period.label}[/] (`ledger reconcile --month "
                  f"{period.start:%Y-%m} --as-of {AS_OF}`): each withdrawal from the platform "
                  "or wallet to her bank, what each hop took, and what never arrived\n")
    result = reconcile.for_ledger(ledger, (period.start, period.end), as_of=AS_OF, rows=rows)
    print_chains(reconcile.to_json(result), period.label, console,
                 reading_locale(ledger))
