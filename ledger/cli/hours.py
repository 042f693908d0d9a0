"""`ledger hours import` and `ledger hours show`: the hours behind net hourly, paid and unpaid.

Registered by ledger/cli/commands.py (`app.add_typer(hours_app, name="hours")`). Thin: options in,
ledger.store / ledger.hours calls, rendering out; heavy imports stay inside the functions.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import SummaryFormat

hours_app = typer.Typer(
    help="Hours worked, paid and unpaid (bidding, admin, learning), for net hourly rates.\n\n"
    "Examples:\n\n\b\n  ledger hours import toggl_2024-06.csv\n  ledger hours show --month 2024-06",
    no_args_is_help=True)


@hours_app.command("import")
def hours_import(
    paths: Annotated[list[Path], typer.Argument(help="Timesheet CSV files.",
                                                show_default=False)],
    date_order: Annotated[str | None, typer.Option(
        help="dmy or mdy, for dates like 05/06/2024 that could be either.")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Parse and count, but write nothing.")] = False,
    output_format: Annotated[SummaryFormat, typer.Option("--format")] = SummaryFormat.table,
) -> None:
    """Import timesheets: a simple CSV, or a Toggl Track or Clockify detailed report export.

    The simple CSV has the columns date,hours and optionally client,contract,kind,description;
    kind is paid (billed to a client), bidding, admin or learning (all three unpaid); hours are
    1.5 or 1:30. In Toggl/Clockify exports billable time is paid, other time admin, unless a tag
    says bidding, admin, learning or paid. Like exports, files are archived, imported all or
    nothing, and an entry already imported is never added twice (`ledger undo` removes one).

    For fixed-price work without a timesheet, put the hours in ledger.toml instead:

    \b
      [[hours]]
      client = "Beta LLC"
      month = "2024-06"
      hours = 12

    Examples:

      ledger hours import hours.csv

      ledger hours import TogglTrack_Report_Detailed_2024-06.csv --dry-run

      ledger hours import Clockify_Time_Report_Detailed.csv --date-order mdy
    """
    from importers.base import ImportOptions
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger

    ledger = _ledger(missing_ok=True)  # an import creates the ledger
    summaries = ledger.import_hours(paths, ImportOptions(date_order=date_order), dry_run=dry_run)
    if output_format is SummaryFormat.json:
        from ledger.render.report import to_json

        sys.stdout.write(to_json({"dry_run": dry_run, "ledger": str(ledger.root),
                                  "files": [s.as_dict() for s in summaries]}))
        return
    from ledger.render.hours import print_imported

    print_imported(summaries, _console(), dry_run)


@hours_app.command("show")
def hours_show(
    month: Annotated[str | None, typer.Option(help="Month YYYY-MM (default: latest).")] = None,
    year: Annotated[int | None, typer.Option(help="Whole year YYYY.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    output_format: Annotated[SummaryFormat, typer.Option("--format")] = SummaryFormat.table,
) -> None:
    """Hours per client for a period: billed on the platform, from timesheets, and unpaid.

    Paid hours a platform billed (Upwork hourly) win over a timesheet's paid hours for the
    same client and period, so nothing is counted twice; unpaid hours always count.

    Examples:

      ledger hours show

      ledger hours show --month 2024-06 --format json
    """
    from importers import hours
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger
    from ledger.reports import report

    ledger = _ledger()
    rows = ledger.rows()
    sheet = ledger.hours()
    import polars as pl

    dates = pl.concat([rows.select("date"), sheet.select("date")])
    period = report.resolve_period(dates, month=month, year=year, start=start, end=end)
    table = hours.per_client(rows.filter(pl.col("date").is_between(period.start, period.end)),
                             hours.for_period(sheet, period.start, period.end))
    if output_format is SummaryFormat.json:
        from ledger.render.report import to_json

        sys.stdout.write(to_json({"period": {"from": str(period.start), "to": str(period.end)},
                                  "clients": table}))
        return
    from ledger.render.hours import print_hours

    print_hours(table, period.label, _console())
