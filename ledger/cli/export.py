"""`ledger export`: the ledger as an hledger or beancount journal, or its rows as CSV/Parquet.

Registered by ledger/cli/commands.py (`app.command("export")(export_cmd)`, like fees, quote).
Thin: options in, ledger.export calls, text or a file out; heavy imports stay inside the
function.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class ExportFormat(StrEnum):
    hledger = "hledger"
    beancount = "beancount"
    csv = "csv"
    parquet = "parquet"


def export_cmd(
    output_format: Annotated[ExportFormat, typer.Option(
        "--format", help="hledger or beancount journal; csv or parquet for data tools.",
        show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write to this file (needed for parquet; default: stdout).",
        show_default=False)] = None,
    month: Annotated[str | None, typer.Option(help="Only this month, YYYY-MM.")] = None,
    year: Annotated[int | None, typer.Option(help="Only this year, YYYY.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="To YYYY-MM-DD.")] = None,
    derived: Annotated[bool | None, typer.Option(
        "--derived/--no-derived", help="With the rows the fee rules derive, as `ledger report` "
        "counts them (a fee folded into a net amount becomes its own row, flagged ! in "
        "journals; a withdrawal that arrived in another currency a conversion with its FX "
        "cost). Default: on for hledger and beancount, off for csv and parquet.",
        show_default=False)] = None,
    currency: Annotated[str | None, typer.Option(
        help="Value the journals in this currency (prices, FX cost; default: home_currency "
        "in ledger.toml).")] = None,
) -> None:
    """Export the ledger for plain-text accounting (hledger, beancount) or data tools.

    Every row, or one period's: hledger and beancount get one balanced transaction per row
    (Assets:Upwork against Income:Freelance:Upwork, Expenses:Fees:Platform:Upwork...; a
    conversion's FX cost as Expenses:FX), each with its source file, line and row id as
    metadata, the rows as `ledger report` counts them (--no-derived: as imported), prices for
    every rate the report used and your exports' running balances as balance assertions:
    `hledger check -s` and `bean-check` pass, and `hledger bal Income Expenses
    --value=then,PKR` is the report's statement. CSV and Parquet hold the canonical rows
    themselves, amounts exact. Every format applies your [[rules]] of ledger.toml (origin
    rule:user:<id>).

    Examples:

      ledger export --format hledger -o freelance.journal

      ledger export --format beancount --year 2024 -o 2024.beancount

      ledger export --format csv --month 2024-06 > 2024-06.csv

      ledger export --format hledger --no-derived --month 2024-06

      ledger export --format parquet -o ledger.parquet
    """
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger
    from ledger.core.errors import UsageError
    from ledger.render import status
    from ledger.reports import export
    from ledger.store.directory import atomic_write_bytes

    if output is None and output_format is ExportFormat.parquet:
        raise UsageError("Parquet is binary: say which file to write",
                         hint="e.g. ledger export --format parquet -o ledger.parquet")
    if output is not None and output.is_dir():
        raise UsageError("is a folder, not a file", path=output,
                         hint=f"e.g. -o {output / ('ledger.' + _suffix(output_format))}")
    if output is not None and not output.parent.is_dir():
        raise UsageError(f"no folder {output.parent} to write into", path=output,
                         hint="create it first, or write somewhere else")
    ledger = _ledger()
    console = _console(stderr=True)
    book = None
    if output_format in (ExportFormat.hledger, ExportFormat.beancount):
        from ledger.reports import export_book

        book = export_book.build(ledger, month=month, year=year, start=start, end=end,
                                 derived=derived is not False, currency=currency)
        rows, label = book.rows, book.label
        for note in book.notes:
            console.print(status.note(note), markup=False)
    else:
        rows, label = export.select(ledger, month=month, year=year, start=start, end=end,
                                    derived=bool(derived))
    result = export.export(rows, output_format.value, export.file_names(ledger), book)
    if isinstance(result, str):
        if output is None:
            sys.stdout.write(result)
        else:
            atomic_write_bytes(output, result.encode("utf-8"))
    else:
        export.write_parquet(result, output)  # type: ignore[arg-type]
    if output is not None:
        console.print(status.exported(output, rows.height, label), markup=False)
    if rows.is_empty():
        console.print(status.nothing_exported(label), markup=False)


def _suffix(output_format: ExportFormat) -> str:
    return {"hledger": "journal", "beancount": "beancount"}.get(output_format.value,
                                                                output_format.value)
