"""`ledger demo`: the bundled made-up exports imported into a fresh ledger, then the report and
the payout journeys (`ledger reconcile`) of the latest month."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.config import reading_locale
from ledger.core.demo import AS_OF, EXPORTS, OPTIONS, SETTINGS, TIMESHEET, demo_dir

if TYPE_CHECKING:
    from rich.console import Console


def run(keep: Path | None, console: Console) -> None:
    """Import the demo exports into `keep` (or a temporary directory), print the report and
    the payout journeys."""
    from ledger.render import demo as say

    if keep is None:
        with tempfile.TemporaryDirectory(prefix="ledger-demo-") as tmp:
            _run(Path(tmp), console)
        console.print(say.temporary_hint())
    else:
        _run(keep, console)
        console.print(say.explore_hint(keep, AS_OF))


def _run(root: Path, console: Console) -> None:
    from importers.base import ImportOptions
    from ledger import reconcile
    from ledger.render import demo as say
    from ledger.render import report as render
    from ledger.render.reconcile import print_chains
    from ledger.reports.report import build, resolve_period
    from ledger.store.directory import Ledger

    source = demo_dir()
    root.mkdir(parents=True, exist_ok=True)
    for name in SETTINGS:
        shutil.copyfile(source / name, root / name)
    ledger = Ledger(root)
    console.print(say.intro(root))
    own = {source / name: ImportOptions.from_dict(given) for name, given in OPTIONS.items()}
    for s in ledger.import_files([source / n for n in EXPORTS], ImportOptions(), options_of=own):
        console.print(say.imported(s))
    for s in ledger.import_hours([source / TIMESHEET], ImportOptions()):
        console.print(say.imported_hours(s))
    console.print()
    rows = ledger.rows()
    period = resolve_period(rows)  # the latest month, as `ledger report` chooses it
    render.print_report(build(ledger, period), console)
    console.print(say.journeys_heading(period.label, period.start, AS_OF))
    result = reconcile.for_ledger(ledger, (period.start, period.end), as_of=AS_OF, rows=rows)
    print_chains(reconcile.to_json(result), period.label, console,
                 reading_locale(ledger))
