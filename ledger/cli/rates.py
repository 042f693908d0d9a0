"""`ledger rates show` and `ledger rates check`: which exchange rates are known, from which
provider, and which rows of a period lack one."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ledger.cli.common import RowsFormat
from ledger.cli.common import console as _console
from ledger.cli.common import open_ledger as _ledger

rates_app = typer.Typer(help="Exchange rates: which are known, and which rows lack one.\n\n"
                        "Examples:\n\n\b\n  ledger rates show USD/PKR --from 2024-06-01\n"
                        "  ledger rates check --month 2024-06",
                        no_args_is_help=True)


@rates_app.command("show")
def rates_show(
    pair: Annotated[str, typer.Argument(help="Currency pair such as USD/PKR or EURUSD.")],
    start: Annotated[str, typer.Option("--from", help="First day YYYY-MM-DD.")],
    end: Annotated[str | None, typer.Option("--to", help="Last day (default: --from).")] = None,
    online: Annotated[bool, typer.Option("--online", help="Fetch what is missing (network).")
                      ] = False,
    output_format: Annotated[RowsFormat, typer.Option("--format")] = RowsFormat.table,
) -> None:
    """The rate used for each day, and where it comes from (your rates.csv, the ECB, NBP...).

    Examples:

      ledger rates show USD/PKR --from 2024-06-01 --to 2024-06-30

      ledger rates show EURUSD --from 2024-06-14 --format json
    """
    from ledger.core.errors import UsageError
    from ledger.reports.report import _iso
    from rules.fx import FxChain, show_pair

    letters = "".join(ch for ch in pair.upper() if ch.isalpha())
    if len(letters) != 6:
        raise UsageError(f"{pair!r} is not a currency pair", hint="write it as USD/PKR")
    ledger = _ledger(missing_ok=True)  # bundled rates need no ledger
    first = _iso(start, "--from")
    last = _iso(end, "--to") if end else first
    chain = FxChain.for_ledger(ledger.rows(), ledger.rates_path, online=online)
    table = show_pair(chain, letters[:3], letters[3:], first, last)
    _print_rates(table, output_format)


@rates_app.command("check")
def rates_check(
    month: Annotated[str | None, typer.Option(help="Only rows of this month, YYYY-MM.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="To YYYY-MM-DD.")] = None,
    currency: Annotated[str | None, typer.Option(
        help="Report currency (default: home_currency in ledger.toml, else USD).")] = None,
    output_format: Annotated[RowsFormat, typer.Option("--format")] = RowsFormat.table,
) -> None:
    """Which rows lack a rate to the report currency, or use a distant one. Exit 1 if any lack.

    Examples:

      ledger rates check

      ledger rates check --month 2024-06 --currency PKR
    """
    import polars as pl

    from ledger.core.errors import DataError
    from ledger.reports.report import report_currency, transactions
    from rules.fx import FxChain, check_rows

    ledger = _ledger()
    rows = transactions(ledger, month=month, start=start, end=end)
    to = report_currency(ledger, currency)
    chain = FxChain.for_ledger(ledger.rows(), ledger.rates_path)
    table = check_rows(chain, rows, to)
    _print_rates(table, output_format)
    lacking = table.filter(pl.col("rate").is_null()) if table.height else table
    if lacking.height:
        first = lacking.row(0, named=True)
        raise DataError(f"{lacking.height} date(s) lack a rate to {to}, first {first['currency']} "
                        f"on {first['date']}", path=ledger.rates_path,
                        hint=f"add lines like {first['date']},{first['currency']},{to},RATE")


def _print_rates(table, output_format: RowsFormat) -> None:
    from ledger.render import rates as render_rates

    if output_format is RowsFormat.json:
        from ledger.render.report import to_json

        sys.stdout.write(to_json(render_rates.records(table)))
    elif output_format is RowsFormat.csv:
        sys.stdout.write(render_rates.rates_csv(table))
    else:
        render_rates.print_rates(table, _console())
