"""`ledger reconcile`'s work once its options are parsed: the chains found, rendered and
written. The app's `reconcile` callback (ledger/cli/reconcile.py) and the typer-free path of
the plain command line (ledger/cli/fast.py) both call `reconcile`, so the two cannot differ in
what they do."""

from __future__ import annotations

from pathlib import Path

from ledger.cli.common import RowsFormat


def settle() -> None:
    """Freeze what is loaded out of the garbage collector's sight (ledger/cli/process.py
    `settle`), as the app's callback did before its work."""
    from ledger.cli.process import settle as loaded

    loaded()


def reconcile(month: str | None = None, start: str | None = None, end: str | None = None,
              output_format: RowsFormat = RowsFormat.table, as_of: str | None = None,
              output: Path | None = None, online: bool = False) -> None:
    """The period's payout chains, in the format asked for, to stdout or `output` (see
    `ledger reconcile --help`)."""
    import datetime as dt

    import polars as pl

    from ledger import reconcile as chains
    from ledger.cli.common import console as _console
    from ledger.cli.common import emit, open_ledger
    from ledger.core.config import reading_locale
    from ledger.core.errors import DataError, UsageError
    from ledger.render import reconcile as render
    from ledger.reports import report

    ledger = open_ledger()
    rows = ledger.rows()
    if rows.is_empty():
        raise DataError("the ledger is empty", path=ledger.root,
                        hint="import exports first: ledger import FILE")
    period = report.resolve_period(rows.select(pl.col("date")), month=month, start=start,
                                   end=end)
    day = None
    if as_of:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise UsageError(f"--as-of {as_of!r} is not a date YYYY-MM-DD") from None
        if day < period.start:  # ages counted from it would be negative: nothing had left
            raise UsageError(f"--as-of {day} is before the period reconciled ({period.label}: "
                             f"{period.start} to {period.end})",
                             hint=f"money in transit is aged from --as-of: give a day from "
                             f"{period.start} on, or leave it out for today")
    result = chains.for_ledger(ledger, (period.start, period.end), online=online,
                               as_of=day, rows=rows)
    data = chains.to_json(result)
    if output_format is RowsFormat.json:
        emit(render.json_lines(data), output)
    elif output_format is RowsFormat.csv:
        emit(render.to_csv(data), output)
    else:
        console = _console()
        if output is not None:
            with console.capture() as capture:
                render.print_chains(data, period.label, console, reading_locale(ledger))
            emit(capture.get(), output)
        else:
            render.print_chains(data, period.label, console, reading_locale(ledger))
