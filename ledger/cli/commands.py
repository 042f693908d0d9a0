"""The `ledger` app: typer's options of every command, parsed into calls of the library and
the renderers (ledger/cli/main.py runs it; `ledger report` with plain options is run without
it, by ledger/cli/fast.py, which calls the same `report_cmd.report`).

Heavy modules (polars, rich tables, importers) are imported inside commands so that
`ledger --help` starts fast. Errors the user can fix print as `path:line: message` plus a
hint, with exit 1 (data) or 2 (usage); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import (
    STATE as _state,
)
from ledger.cli.common import (
    ReportFormat,
    RowsFormat,
    SummaryFormat,
)
from ledger.cli.common import (
    console as _console,
)
from ledger.cli.common import (
    open_ledger as _ledger,
)
from ledger.cli.lazy import Group

app = typer.Typer(
    name="ledger",
    help="What you really earn as an online freelancer: every fee, spread and deduction from "
    "platform to local bank, from the exports you already have.\n\n"
    "Start with `ledger demo`, then `ledger import ~/Downloads/*.csv` and `ledger report`.\n\n"
    "Examples:\n\n"
    "\b\n"
    "  ledger demo\n"
    "  ledger import ~/Downloads/statements_*.csv ~/Downloads/Download.CSV\n"
    "  ledger report --month 2024-06\n"
    "  ledger report --year 2024 --format json > 2024.json\n"
    "  ledger --width 60 report    (tables for 60 columns)\n\n"
    "Every command has its own --help (or -h) with examples.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["--help", "-h"]},  # every command inherits it
    cls=Group,
)


def _version(shown: bool) -> None:
    """`ledger --version`: the installed distribution's version and the stored rows' schema
    version, without loading polars or the commands."""
    if not shown:
        return
    from importlib.metadata import PackageNotFoundError, version

    from ledger.core.schema import VERSION
    from ledger.render.status import version_line

    try:
        installed: str | None = version("freelance-ledger")
    except PackageNotFoundError:  # run from a source tree that was never installed
        installed = None
    sys.stdout.write(version_line(installed, VERSION) + "\n")
    raise typer.Exit()

@app.callback()
def main_options(
    ledger_dir: Annotated[Path | None, typer.Option(
        "--ledger", help="Ledger directory (default: $LEDGER_DIR, else your user data folder).",
        show_default=False)] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    width: Annotated[int | None, typer.Option(
        "--width", min=20, envvar="LEDGER_WIDTH", metavar="N",
        help="Lay tables and text out for N columns (default: the terminal's width, else "
        "$COLUMNS, else 100). Narrow: text columns wrap or go, then each row is stacked as "
        "key: value lines; figures and codes are never cut. Example: ledger --width 60 report",
        show_default=False)] = None,
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_version,
        help="Show the version of ledger and of its stored rows' schema, and exit.")] = False,
) -> None:
    """Global options."""
    _state["ledger"] = ledger_dir
    _state["debug"] = debug
    _state["width"] = width


@app.command("import")
def import_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Export files to import.",
                                                show_default=False)],
    source: Annotated[str | None, typer.Option(
        help="Skip detection and read every file as this format (see `ledger formats`).")] = None,
    account: Annotated[str | None, typer.Option(
        help="Account name for the rows (default: the format's, e.g. upwork, paypal).")] = None,
    date_order: Annotated[str | None, typer.Option(
        help="dmy or mdy, for files whose dates like 05/06/2024 could be either "
        "(Payoneer's own export: mdy).")] = None,
    decimal_mark: Annotated[str | None, typer.Option(
        help="'.' or ',', for files whose numbers could use either.")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Parse and count, but write nothing.")] = False,
    output_format: Annotated[SummaryFormat, typer.Option(
        "--format", help="table for people, json for scripts.")] = SummaryFormat.table,
) -> None:
    """Import exports into the ledger: all files or none, and never the same row twice.

    Each file's format is detected (Upwork, PayPal, ...); the original is archived by its
    sha256; rows already in the ledger (same export again, or an overlapping one) are skipped.

    Examples:

      ledger import ~/Downloads/statements_2024-06-01_2024-06-30.csv

      ledger import ~/Downloads/*.csv --dry-run

      ledger import Download.CSV --date-order dmy
    """
    from ledger.cli.import_cmd import import_files

    import_files(paths, source=source, account=account, date_order=date_order,
                 decimal_mark=decimal_mark, dry_run=dry_run, output_format=output_format)


@app.command()
def report(
    month: Annotated[str | None, typer.Option(help="Month YYYY-MM (default: latest).")] = None,
    year: Annotated[int | None, typer.Option(help="Whole year YYYY.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    tax_year: Annotated[int | None, typer.Option(
        "--tax-year", help="The tax year ending in YYYY for the country in ledger.toml "
        "(PK, BD: July-June; IN: April-March; others: calendar; docs/tax-year.md).")] = None,
    currency: Annotated[str | None, typer.Option(
        help="Report currency (default: home_currency in ledger.toml, else USD).")] = None,
    output_format: Annotated[ReportFormat, typer.Option(
        "--format", help="table for people; json (schema ledger.report/1) or csv for scripts; "
        "html for one self-contained page with charts (use -o).")
    ] = ReportFormat.table,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to a file.")
                      ] = None,
    online: Annotated[bool, typer.Option(
        "--online", help="Fetch rates no offline source has (network; cached).")] = False,
) -> None:
    """What you earned and what every hop took, for a month, a year or any range.

    Gross, platform fees, payment and withdrawal fees, FX cost, bank deductions, taxes, net,
    hours and net per hour, by platform and by client, with the FX rates used and their source.
    With wallet and bank statements imported, the payout chains are matched (as `ledger
    reconcile` does): a conversion only the bank's credit shows counts in the FX cost, and each
    platform's and client's payout costs (withdrawal, spread, bank, tax on the way home,
    charged back first in, first out) and net home are shown.

    Examples:

      ledger report

      ledger report --month 2024-06 --currency PKR

      ledger report --year 2024 --format json -o 2024.json

      ledger report --tax-year 2024    (Pakistan: July 2023 to June 2024)

      ledger report --month 2024-06 --format html -o report.html
    """
    from ledger.cli.report_cmd import report as run
    from ledger.cli.report_cmd import settle

    settle()
    run(month=month, year=year, start=start, end=end, tax_year=tax_year, currency=currency,
        output_format=output_format, output=output, online=online)


from ledger.cli.rates import rates_app  # noqa: E402  (sub-app: cli/rates.py)

app.add_typer(rates_app, name="rates", cls=Group)

from ledger.cli.hours import hours_app  # noqa: E402  (a sub-app: registered where rates is)

app.add_typer(hours_app, name="hours", cls=Group)
from ledger.cli.reconcile import reconcile_app  # noqa: E402  (sub-app: cli/reconcile.py)

app.add_typer(reconcile_app, name="reconcile", cls=Group)

from ledger.cli.batch import batch_cmd  # noqa: E402  (research panels: cli/batch.py)

app.command("batch")(batch_cmd)
from ledger.cli.payouts import payouts_app  # noqa: E402  (sub-app, like hours)

app.add_typer(payouts_app, name="payouts", cls=Group)
from ledger.cli.user_rules import rules_app  # noqa: E402  (your [[rules]]: cli/user_rules.py)

app.add_typer(rules_app, name="rules", cls=Group)
from ledger.cli.formats import formats_app  # noqa: E402  (formats, formats new: cli/formats.py)

app.add_typer(formats_app, name="formats", cls=Group)

from ledger.cli.tax import tax_register_cmd  # noqa: E402  (the tax year: cli/tax.py)

app.command("tax-register")(tax_register_cmd)


@app.command()
def transactions(
    month: Annotated[str | None, typer.Option(help="Only this month, YYYY-MM.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="To YYYY-MM-DD.")] = None,
    kind: Annotated[list[str] | None, typer.Option(
        help="Only these kinds (repeatable): earning, platform_fee, payment_fee, fx, transfer...")
    ] = None,
    source: Annotated[list[str] | None, typer.Option(
        help="Only these sources (repeatable, any case): upwork, paypal...; one the ledger "
        "has no rows from is refused with the list.")] = None,
    unclassified: Annotated[bool, typer.Option(
        "--unclassified", help="Only rows no importer, profile or rule named (kind other), "
        "largest first: what needs a [[rules]] entry.")] = False,
    output_format: Annotated[RowsFormat, typer.Option("--format")] = RowsFormat.table,
    limit: Annotated[int, typer.Option(help="Rows shown in the table (0 = all).")] = 200,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to a file.")
                      ] = None,
) -> None:
    """List ledger rows, each with its id and where it came from (file, line).

    The id shown is the first 8 characters of the row's, as `ledger reconcile` names rows
    and `ledger reconcile link` takes them; file and line show where the width allows
    (every column in --format json or csv, with import_id).

    Examples:

      ledger transactions --month 2024-06

      ledger transactions --kind platform_fee --kind payment_fee

      ledger transactions --source paypal --format csv -o paypal.csv

      ledger transactions --unclassified --from 2024-01-01 --to 2024-12-31

    A row one of your [[rules]] in ledger.toml changed shows the rule's id (origin
    rule:user:<id> in json and csv).
    """
    from ledger.cli.transactions_cmd import settle
    from ledger.cli.transactions_cmd import transactions as run

    settle()
    run(month=month, start=start, end=end, kind=kind, source=source, unclassified=unclassified,
        output_format=output_format, limit=limit, output=output)


@app.command()
def benchmarks(
    country: Annotated[str | None, typer.Option(
        help="ISO country code (default: country in ledger.toml).")] = None,
    year: Annotated[int | None, typer.Option(
        help="Only the figures that apply to this year (nearest earlier).")] = None,
    output_format: Annotated[RowsFormat, typer.Option("--format")] = RowsFormat.table,
) -> None:
    """Local income benchmarks (minimum wage, poverty line, income per head...) with sources.

    Your own figures (a living wage you trust) go in ledger.toml:

    \b
      [[benchmarks]]
      name = "living_wage_lahore"
      amount = "60000"
      currency = "PKR"
      period = "month"
      source = "my household budget"

    Examples:

      ledger benchmarks --country PK

      ledger benchmarks --country PH --year 2024 --format json
    """
    import polars as pl

    from ledger.core.errors import UsageError
    from ledger.reports import benchmarks as bench

    config = _ledger(missing_ok=True).settings()  # bundled figures need no ledger
    code = (country or config.country or "").upper()
    if not code:
        raise UsageError("no country given", hint="use --country PK, or set country in "
                         "ledger.toml (ledger init --currency PKR --country PK)")
    table = bench.table(list(config.benchmarks), code)
    if year is not None:
        rows = bench.pick(table, code, year)
    else:
        rows = list(table.filter(pl.col("country_iso2") == code).sort("benchmark", "year")
                    .iter_rows(named=True))
    if not rows:
        known = ", ".join(sorted(set(table["country_iso2"].to_list()) - {"XX"}))
        raise UsageError(f"no benchmarks for {code!r}", hint=f"countries with figures: {known}"
                         "; add your own as [[benchmarks]] in ledger.toml")
    if output_format is RowsFormat.json:
        from ledger.render.report import to_json

        sys.stdout.write(to_json(rows))
        return
    if output_format is RowsFormat.csv:
        from ledger.render.report import records_csv

        sys.stdout.write(records_csv(rows))
        return
    from ledger.render.benchmarks import print_benchmarks

    print_benchmarks(rows, _console(), config.locale)


@app.command()
def imports(
    output_format: Annotated[RowsFormat, typer.Option("--format")] = RowsFormat.table,
) -> None:
    """List the imports in effect (the ids `ledger undo` takes).

    Examples:

      ledger imports
    """
    entries = _ledger().active_imports()
    if output_format is RowsFormat.json:
        from ledger.render.report import to_json

        sys.stdout.write(to_json(entries))
        return
    if output_format is RowsFormat.csv:
        from ledger.render.ledger_dir import imports_csv

        sys.stdout.write(imports_csv(entries))
        return
    from ledger.render.ledger_dir import print_imports

    print_imports(entries, _console())


@app.command()
def undo(
    import_id: Annotated[str, typer.Argument(help="Import id, or its first characters.")],
) -> None:
    """Remove one import; rows it shared with other imports stay.

    Examples:

      ledger imports

      ledger undo 3f2a9c
    """
    from ledger.render.ledger_dir import undone_line

    _console().print(undone_line(_ledger().undo(import_id)))


@app.command()
def rebuild() -> None:
    """Re-read every archived export with today's importers and rewrite the ledger.

    Examples:

      ledger rebuild
    """
    from ledger.render.ledger_dir import rebuilt_line

    _console().print(rebuilt_line(_ledger().rebuild()))


@app.command()
def doctor(
    check: Annotated[bool, typer.Option(
        "--check", help="Only report; change nothing.")] = False,
    output_format: Annotated[SummaryFormat, typer.Option("--format")] = SummaryFormat.table,
) -> None:
    """Check the ledger directory is one consistent state, and repair what an interrupted
    import left (log entries no ledger file vouches for, stray temporary files, archived
    sources no import refers to, an unreadable ledger file). Exit 1 if something is left
    that only you can fix, such as an archived source that was deleted.

    Examples:

      ledger doctor

      ledger doctor --check --format json
    """
    findings = _ledger().doctor(repair=not check)
    if output_format is SummaryFormat.json:
        from ledger.render.report import to_json

        sys.stdout.write(to_json(findings))
    else:
        from ledger.render.ledger_dir import print_doctor

        print_doctor(findings, _console())
    if any(not f["repaired"] for f in findings):
        raise typer.Exit(1)


@app.command()
def init(
    currency: Annotated[str, typer.Option(help="Your home currency, e.g. PKR, PHP, INR.")],
    country: Annotated[str | None, typer.Option(
        help="ISO country code for income benchmarks, e.g. PK.")] = None,
    locale: Annotated[str | None, typer.Option(
        help="How numbers are written for you, e.g. en_IN (1,23,456.78), de_DE (123.456,78); "
        "default 123,456.78.")] = None,
) -> None:
    """Create ledger.toml with your home currency (the report's default), country and locale.

    The locale groups every amount, percentage and hour count in tables, text and HTML (JSON
    and CSV keep plain 123456.78).

    Examples:

      ledger init --currency PKR --country PK

      ledger init --currency INR --country IN --locale en_IN
    """
    from ledger.core.config import write_initial
    from ledger.render.status import wrote

    path = write_initial(_ledger(missing_ok=True), currency, country, locale)
    _console().print(wrote(path), markup=False)


@app.command()
def demo(
    keep: Annotated[Path | None, typer.Option(
        help="Keep the demo ledger in this directory instead of a temporary one.")] = None,
) -> None:
    """Import a fictional Lahore freelancer's exports into a temporary ledger and report.

    Three months of Upwork hourly and fixed-price work, PayPal payments from a EUR client with
    conversions, a Payoneer wallet and her Meezan Bank statement. Prints the latest month's
    report in PKR, then that month's payout journeys (`ledger reconcile`): each withdrawal hop
    by hop to the bank, what each hop took, and the one that never arrived.

    Examples:

      ledger demo

      ledger demo --keep ./demo && ledger --ledger ./demo report --year 2024
    """
    from ledger.cli.demo import run

    run(keep, _console())


# `ledger fees` and `ledger quote` live in cli/rules.py (typer is imported there anyway; the
# rules and polars load only inside the commands).
from ledger.cli.rules import fees_cmd, quote_cmd  # noqa: E402

app.command("fees")(fees_cmd)
app.command("quote")(quote_cmd)
from ledger.cli.export import export_cmd  # noqa: E402  (`ledger export`, like fees and quote)

app.command("export")(export_cmd)
