"""`ledger report`'s work once its options are parsed: the report built, rendered and written.
The app's `report` command (ledger/cli/commands.py) and the typer-free path of the plain
command line (ledger/cli/fast.py) both call `report`, so the two cannot differ in what they do."""

from __future__ import annotations

from pathlib import Path

from ledger.cli.common import ReportFormat, console, emit, open_ledger


def settle() -> None:
    """What the report's work needs loaded (polars, the report, its renderer), then frozen
    out of the garbage collector's sight (ledger/cli/process.py `settle`)."""
    from ledger.cli.process import settle as loaded

    loaded("polars", "ledger.reports.report", "ledger.render.report")


def report(month: str | None = None, year: int | None = None, start: str | None = None,
           end: str | None = None, tax_year: int | None = None, currency: str | None = None,
           output_format: ReportFormat = ReportFormat.table, output: Path | None = None,
           online: bool = False) -> None:
    """The report for the period the options name, in the format asked for, to stdout or
    `output` (see `ledger report --help`)."""
    from ledger.render import report as render
    from ledger.reports.report import build, period_note

    ledger = open_ledger()
    period = None
    if tax_year is not None:
        from ledger.cli.tax import tax_period

        period = tax_period(ledger, tax_year, month=month, year=year, start=start, end=end)
    data = build(ledger, period, currency=currency, online=online, month=month, year=year,
                 start=start, end=end)
    empty = period_note(data)
    if empty is not None:  # on stderr, whatever the format: the zeros are no earnings
        from ledger.render.status import note

        console(stderr=True).print(note(empty), markup=False)
        if output_format is ReportFormat.table:  # said once: not again under the table
            data = {**data, "warnings": data["warnings"][1:]}
    if output_format is ReportFormat.json:
        emit(render.to_json(data), output)
    elif output_format is ReportFormat.csv:
        emit(render.report_csv(data), output)
    elif output_format is ReportFormat.html:
        from ledger.render.html import render as page

        emit(page(data), output)
    elif output is not None:
        shown = console()
        with shown.capture() as capture:
            render.print_report(data, shown)
        emit(capture.get(), output)
    else:
        render.print_report(data, console())
