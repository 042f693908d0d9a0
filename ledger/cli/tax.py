"""`ledger tax-register` and the `--tax-year` option of `ledger report`: a country's tax year
(ledger.fiscal) and the remittance register of it (ledger.tax_register)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.cli.common import ReportFormat

if TYPE_CHECKING:
    from ledger.reports.report import Period
    from ledger.store.directory import Ledger


def tax_period(ledger: Ledger, tax_year: int, /, **others: object) -> Period:
    """The tax year ending in `year` for the ledger's country; refuses a second period option."""
    from ledger.core.errors import UsageError
    from ledger.core.fiscal import for_ledger

    given = [f"--{k}" for k, v in others.items() if v is not None]
    if given:
        raise UsageError(f"--tax-year and {', '.join(given)} choose different periods",
                         hint="give one of them")
    return for_ledger(ledger, tax_year)


def tax_register_cmd(
    tax_year: Annotated[int, typer.Option(
        "--tax-year", help="The tax year ending in YYYY for the country in ledger.toml "
        "(PK, BD: July-June; IN: April-March; others: calendar).", show_default=False)],
    currency: Annotated[str | None, typer.Option(
        help="Register currency (default: home_currency in ledger.toml, else USD).")] = None,
    output_format: Annotated[ReportFormat, typer.Option(
        "--format", help="table for people; csv or json for an accountant's tools; html "
        "for a page that prints on A4 (use -o).")] = ReportFormat.table,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to a file.")
                      ] = None,
    online: Annotated[bool, typer.Option(
        "--online", help="Fetch rates no offline source has (network; cached).")] = False,
) -> None:
    """The tax year's inward remittances, one line each, to file from (not tax advice).

    Each credit into your local bank accounts: date, bank, the bank's reference (the key of
    its PRC / FIRA / FIRC), the wallet or platform it came from and the chain behind it,
    the foreign amount, the rate, the local amount, charges and tax withheld, and whose
    earnings it carried (platforms, clients). Totals per month and for the year; credits
    with no traceable origin apart; what had not reached a local bank by the year end with
    its value then; and a reconciliation with `ledger report --tax-year` for the same year.

    The tax year follows `country` in ledger.toml (docs/tax-year.md): Pakistan's tax year
    2024 is July 2023 to June 2024, India's FY 2023-24 is April 2023 to March 2024.

    Examples:

      ledger tax-register --tax-year 2024

      ledger tax-register --tax-year 2024 --format csv -o register-2024.csv

      ledger tax-register --tax-year 2024 --format html -o register-2024.html
    """
    from ledger.cli.common import emit as _emit
    from ledger.cli.common import open_ledger as _ledger
    from ledger.core.fiscal import for_ledger
    from ledger.reports.tax_register import build

    ledger = _ledger()
    data = build(ledger, for_ledger(ledger, tax_year), currency=currency, online=online)
    if output_format is ReportFormat.json:
        from ledger.render.report import to_json

        _emit(to_json(data), output)
    elif output_format is ReportFormat.csv:
        from ledger.render.tax_register import to_csv

        _emit(to_csv(data), output)
    elif output_format is ReportFormat.html:
        from ledger.render.tax_register import to_html

        _emit(to_html(data), output)
    else:
        from ledger.cli.common import console as _console
        from ledger.render.tax_register import print_register

        console = _console()
        if output is None:
            print_register(data, console)
            return
        with console.capture() as capture:
            print_register(data, console)
        _emit(capture.get(), output)
