"""`ledger import`'s work once its options are parsed: the files imported and the summary
printed. The app's `import` command (ledger/cli/commands.py) and the typer-free path of the
plain command line (ledger/cli/fast.py: typer's import and its click command were ~0.03 s of
CPU of every import) both call `import_files`, so the two cannot differ in what they do."""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.cli.common import SummaryFormat, console, open_ledger


def settle() -> None:
    """What every import loads (polars, after the allocator's options are set: ledger/cli/
    process.py; the importers' shared modules and the store), then frozen out of the garbage
    collector's sight (ledger/cli/process.py `settle`)."""
    from ledger.cli.process import settle as loaded

    loaded("polars", "importers.base", "importers.readers", "importers.registry",
           "ledger.store.directory", "ledger.store.importing")


def import_files(paths: list[Path], source: str | None = None, account: str | None = None,
                 date_order: str | None = None, decimal_mark: str | None = None,
                 dry_run: bool = False,
                 output_format: SummaryFormat = SummaryFormat.table) -> None:
    """Import `paths` into the ledger the options select and print the summary (see `ledger
    import --help`)."""
    from importers.base import ImportOptions

    ledger = open_ledger(missing_ok=True)  # an import creates the ledger
    options = ImportOptions(account=account, date_order=date_order, decimal_mark=decimal_mark)
    summaries = _with_progress(paths, lambda tick: ledger.import_files(
        paths, options, source=source, dry_run=dry_run, progress=tick))
    if output_format is SummaryFormat.json:
        from ledger.render.report import to_json

        sys.stdout.write(to_json({"dry_run": dry_run, "ledger": str(ledger.root),
                                  "files": [s.as_dict() for s in summaries]}))
        return
    from ledger.render.ledger_dir import print_imported

    print_imported(summaries, console(), ledger.root, dry_run)


def _with_progress(paths: list[Path], run):
    """Run with a progress bar over files when there are several and stderr is a terminal."""
    if len(paths) < 2 or not sys.stderr.isatty():
        return run(None)
    from ledger.render.ledger_dir import import_progress

    with import_progress(console(stderr=True), len(paths)) as advance:
        return run(lambda _path: advance())
