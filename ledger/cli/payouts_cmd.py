"""`ledger payouts`' work once its options are parsed: the summary built, rendered and written.
The app's `payouts` callback (ledger/cli/payouts.py) and the typer-free path of the plain
command line (ledger/cli/fast.py) both call `payouts`, so the two cannot differ in what they
do."""

from __future__ import annotations

from pathlib import Path

from ledger.cli.common import RowsFormat


def settle() -> None:
    """What the summary's work needs loaded (polars), then frozen out of the garbage
    collector's sight (ledger/cli/process.py `settle`)."""
    from ledger.cli.process import settle as loaded

    loaded("polars")


def payouts(month: str | None = None, year: int | None = None, start: str | None = None,
            end: str | None = None, currency: str | None = None,
            output_format: RowsFormat = RowsFormat.table, output: Path | None = None,
            online: bool = False) -> None:
    """The sub-workers' summary for the period the options name, in the format asked for, to
    stdout or `output` (see `ledger payouts --help`)."""
    from ledger import payouts as lib
    from ledger.cli.common import console, emit, open_ledger
    from ledger.core.config import reading_locale
    from ledger.render import payouts as render

    ledger = open_ledger()
    summary = lib.summarize(ledger, currency=currency, online=online, month=month,
                            year=year, start=start, end=end,
                            workers_only=output_format is RowsFormat.table)
    data = lib.as_json(summary)
    locale = reading_locale(ledger)
    if output_format is RowsFormat.json:
        from ledger.render.report import to_json

        emit(to_json(data), output)
    elif output_format is RowsFormat.csv:
        emit(render.as_csv(data), output)
    elif output is not None:
        shown = console()
        with shown.capture() as capture:
            render.print_summary(data, shown, locale)
        emit(capture.get(), output)
    else:
        render.print_summary(data, console(), locale)
