"""`ledger payouts`, `ledger payouts record`, `ledger payouts statement`: sub-workers' shares.

Registered by ledger/cli/commands.py (`app.add_typer(payouts_app, name="payouts")`). Thin:
options in, ledger.payouts calls, rendering out; polars, rich and the rules load only inside the
commands.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import RowsFormat
from ledger.core.config import reading_locale

payouts_app = typer.Typer(invoke_without_command=True)


class StatementFormat(StrEnum):
    html = "html"
    csv = "csv"
    json = "json"
    text = "text"


@payouts_app.callback(invoke_without_command=True)
def payouts(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option(help="Month YYYY-MM (default: latest).")] = None,
    year: Annotated[int | None, typer.Option(help="Whole year YYYY.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    currency: Annotated[str | None, typer.Option(
        help="Currency of the contract and value-chain tables (default: home_currency).")
    ] = None,
    output_format: Annotated[RowsFormat, typer.Option(
        "--format", help="table for people; json (schema ledger.payouts/1) or csv for scripts.")
    ] = RowsFormat.table,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to a file.")
                      ] = None,
    online: Annotated[bool, typer.Option(
        "--online", help="Fetch rates no offline source has (network; cached).")] = False,
) -> None:
    """What your sub-workers are owed under the split rules, what you paid, and the balances.

    Per worker (in their currency): brought forward from earlier periods, owed this period,
    paid, balance. Per contract (report currency): gross, platform and payment costs, owed to
    sub-workers, your margin; and the value chain: what share of the clients' money went to
    the platform, the payment providers, each sub-worker and you. Rows are counted as `ledger
    report` counts them (reconcile's matches, then the fee rules), so the payment costs add up
    to the report's payment fees, FX cost and bank deductions, and each contract carries the
    withdrawal and conversion costs the report's By client charges to its money. Payments are
    ledger rows to a worker's aliases (bank and wallet exports) and `ledger payouts record`
    entries.

    Rules go in ledger.toml:

    \b
      [[workers]]
      name = "Ali"
      currency = "PKR"
      aliases = ["Ali Khan"]
    \b
      [[splits]]
      worker = "Ali"
      client = "Acme*"
      percent_of_gross = "10"

    Other shares: percent_of_net, per_job, per_unit with unit (hour from the rows; audio_hour,
    item, word from units.csv: date,contract,worker,unit,quantity), equal_share = true with
    workers = [...]. See README "Paying sub-workers".

    Examples:

      ledger payouts

      ledger payouts --month 2024-06 --format json

      ledger payouts --year 2024 --currency USD --format csv -o payouts-2024.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    from ledger.cli.payouts_cmd import payouts as run
    from ledger.cli.payouts_cmd import settle

    settle()
    run(month=month, year=year, start=start, end=end, currency=currency,
        output_format=output_format, output=output, online=online)


@payouts_app.command("record")
def payouts_record(
    worker: Annotated[str, typer.Argument(help="Worker name as in ledger.toml [[workers]].",
                                          metavar="WORKER", show_default=False)],
    amount: Annotated[str, typer.Argument(help="What you paid, e.g. 5000.",
                                          metavar="AMOUNT", show_default=False)],
    currency: Annotated[str, typer.Argument(help="Its currency, e.g. PKR.",
                                            metavar="CUR", show_default=False)],
    date: Annotated[str, typer.Option(help="Day you paid, YYYY-MM-DD.", show_default=False)],
    reference: Annotated[str | None, typer.Option(
        "--ref", help="The payment's reference (a wallet's transaction id); shown on the "
                      "worker's statement.")] = None,
    note: Annotated[str | None, typer.Option(help="A note for yourself (not shown on "
                                                  "statements).")] = None,
    again: Annotated[bool, typer.Option(
        "--again", help="Record it although the same payment (worker, date, amount, currency, "
                        "reference) is already recorded: you really paid twice.")] = False,
) -> None:
    """Record a payment with no export (cash, a mobile wallet you do not import).

    It is kept in payouts.csv in the ledger directory (written atomically under the ledger
    lock), counts as paid in `ledger payouts` and statements, and as subcontractor_payouts in
    `ledger report`. Recording the same payment twice is refused unless you add --again;
    `ledger payouts list` shows the records and `ledger payouts undo ID` removes a wrong one.

    Examples:

      ledger payouts record Ali 5000 PKR --date 2024-06-20

    \b
      ledger payouts record Sara 25 USD --date 2024-06-28 --ref JC-88121 \\
          --note "JazzCash"

      ledger payouts record Ali 5000 PKR --date 2024-06-20 --again
    """
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger
    from ledger.payouts import load_rules
    from ledger.payouts.record import SHORT_ID, record
    from ledger.render import payouts as payouts_render

    ledger = _ledger()
    done = record(ledger, load_rules(ledger), worker, amount, currency, date, note, reference,
                  again)
    _console().print(payouts_render.recorded_line(done, SHORT_ID), markup=False)


@payouts_app.command("list")
def payouts_list(
    worker: Annotated[str | None, typer.Option(help="Only this worker's records.")] = None,
    month: Annotated[str | None, typer.Option(help="Month YYYY-MM.")] = None,
    year: Annotated[int | None, typer.Option(help="Whole year YYYY.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    output_format: Annotated[RowsFormat, typer.Option(
        "--format", help="table for people; json or csv for scripts.")
    ] = RowsFormat.table,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to a file.")
                      ] = None,
) -> None:
    """The payments recorded with `ledger payouts record` (payouts.csv), oldest first, with
    their ids (for `ledger payouts undo`). Without a period: all of them.

    Examples:

      ledger payouts list

      ledger payouts list --worker Ali --month 2024-06

      ledger payouts list --year 2024 --format csv -o recorded-2024.csv
    """
    from ledger.cli.common import console as _console
    from ledger.cli.common import emit as _emit
    from ledger.cli.common import open_ledger as _ledger
    from ledger.payouts import load_rules
    from ledger.payouts.record import SHORT_ID, listing
    from ledger.render import payouts as payouts_render

    ledger = _ledger()
    rules = load_rules(ledger)
    lo = hi = None
    if month or year or start or end:
        import polars as pl

        from ledger.reports.report import YEARS, resolve_period

        # one open end of --from/--to: the widest range a report period may name
        period = resolve_period(pl.DataFrame(schema={"date": pl.Date}), month=month, year=year,
                                start=start or (end and f"{YEARS[0]}-01-01"),
                                end=end or (start and f"{YEARS[1]}-12-31"))
        lo, hi = period.start, period.end
    items = listing(rules, worker, lo, hi)
    if output_format is RowsFormat.json:
        from ledger.render.report import to_json

        _emit(to_json({"schema": "ledger.payouts-recorded/1", "records": items}), output)
        return
    if output_format is RowsFormat.csv:
        _emit(payouts_render.recorded_csv(items), output)
        return
    console = _console()
    if output is not None and items:  # "none recorded" goes to the terminal, not the file
        with console.capture() as capture:
            payouts_render.print_recorded(items, console, reading_locale(ledger), SHORT_ID)
        _emit(capture.get(), output)
    else:
        payouts_render.print_recorded(items, console, reading_locale(ledger), SHORT_ID, bool(lo))


@payouts_app.command("undo")
def payouts_undo(
    record_id: Annotated[str, typer.Argument(
        help="The record's id as `ledger payouts list` shows it (4 or more characters).",
        metavar="ID", show_default=False)],
) -> None:
    """Remove a payment recorded by mistake from payouts.csv (atomically, under the ledger
    lock). The removed line is kept in payouts-undone.csv.

    Examples:

      ledger payouts list --worker Ali

      ledger payouts undo 3f9c2a1b
    """
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger
    from ledger.payouts import load_rules
    from ledger.payouts.record import SHORT_ID, undo
    from ledger.render import payouts as payouts_render

    ledger = _ledger()
    gone = undo(ledger, load_rules(ledger), record_id)
    _console().print(payouts_render.undone_line(gone, SHORT_ID), markup=False)


@payouts_app.command("statement")
def payouts_statement(
    worker: Annotated[str, typer.Argument(help="Worker name as in ledger.toml [[workers]].",
                                          metavar="WORKER", show_default=False)],
    month: Annotated[str | None, typer.Option(help="Month YYYY-MM (default: latest).")] = None,
    year: Annotated[int | None, typer.Option(help="Whole year YYYY.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write to a file; .html, .csv, .json or .txt picks the format.")
    ] = None,
    output_format: Annotated[StatementFormat | None, typer.Option(
        "--format", help="html, csv, json or text (default: from -o's extension, else text).")
    ] = None,
    online: Annotated[bool, typer.Option(
        "--online", help="Fetch rates no offline source has (network; cached).")] = False,
) -> None:
    """A statement one worker can check: their jobs (numbered; contract titles only with
    show_contract = true), units, rate or share, what is owed, payments, the balance, in
    their currency. Nothing about other workers or your clients.

    Every line recomputes from its own figures: the amount is shown exactly, times the
    exchange rate shown, rounded once to the currency's unit; totals are the sums of the
    lines. Amounts and shares are written as `locale` in ledger.toml says (en_IN 1,23,456.78;
    de_DE 123.456,78 and 12,5 %). The HTML prints on A4 from any browser.

    Examples:

      ledger payouts statement Ali --month 2024-06 -o ali-2024-06.html

      ledger payouts statement Bilal --year 2024 -o bilal-2024.csv

      ledger payouts statement Sara --from 2024-04-01 --to 2024-06-30
    """
    from ledger import payouts as lib
    from ledger.cli.common import emit as _emit
    from ledger.cli.common import open_ledger as _ledger
    from ledger.core.errors import UsageError
    from ledger.payouts import statement as stmt
    from ledger.render import statement as statement_render

    if output_format is not None:
        fmt = output_format.value
    elif output is not None:
        fmt = statement_render.FORMATS.get(output.suffix.lower(), "")
        if not fmt:
            raise UsageError(f"cannot tell the format of {output.name}",
                             hint="name it .html, .csv, .json or .txt, or add --format "
                             "html|csv|json|text")
    else:
        fmt = "text"
    ledger = _ledger()
    rules = lib.load_rules(ledger)
    rules.worker(worker)  # an unknown name fails before any work
    summary = lib.summarize(ledger, online=online, detail=False, month=month, year=year,
                            start=start, end=end)
    data = stmt.statement(summary, worker, reading_locale(ledger))
    _emit(statement_render.render(data, fmt), output)
