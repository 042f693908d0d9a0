"""`ledger transactions`' work once its options are parsed: the rows selected, rendered and
written. The app's `transactions` command (ledger/cli/commands.py) and the typer-free path of
the plain command line (ledger/cli/fast.py) both call `transactions`, so the two cannot differ
in what they do."""

from __future__ import annotations

from pathlib import Path

from ledger.cli.common import RowsFormat


def settle() -> None:
    """What the rows' work needs loaded (polars), then frozen out of the garbage collector's
    sight (ledger/cli/process.py `settle`)."""
    from ledger.cli.process import settle as loaded

    loaded("polars")


def transactions(month: str | None = None, start: str | None = None, end: str | None = None,
                 kind: list[str] | None = None, source: list[str] | None = None,
                 unclassified: bool = False, output_format: RowsFormat = RowsFormat.table,
                 limit: int = 200, output: Path | None = None) -> None:
    """The ledger's rows the options select, in the format asked for, to stdout or `output`
    (see `ledger transactions --help`)."""
    from ledger.cli.common import console, emit, open_ledger
    from ledger.core.config import reading_locale
    from ledger.render import report as render
    from ledger.reports.report import transactions as select

    ledger = open_ledger()
    rows = select(ledger, month=month, start=start, end=end, kinds=kind, sources=source)
    if unclassified:
        from ledger.counting.rule_tools import unclassified as needing_rules

        rows = needing_rules(rows)
    if output_format is RowsFormat.json:
        emit(render.to_json(render.rows_json(rows)), output)
    elif output_format is RowsFormat.csv:
        emit(render.rows_csv(rows), output)
    else:
        render.print_rows(rows, console(), None if limit == 0 else limit,
                          reading_locale(ledger))
