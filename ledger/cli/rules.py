"""`ledger fees` and `ledger quote`: command functions that ledger/cli/commands.py registers
(`app.command("fees")(fees_cmd)`, `app.command("quote")(quote_cmd)`).

Thin like the rest of the CLI: options in, library calls (ledger.fee_check, rules.quote),
rendering out (ledger.render_fees, ledger.render_quote). polars and the rules are imported
inside the functions so `ledger --help` stays fast.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.cli.common import SummaryFormat
from ledger.core.config import reading_locale
from ledger.core.errors import DataError, UsageError

if TYPE_CHECKING:
    from ledger.store.directory import Ledger


def fees_cmd(
    month: Annotated[str | None, typer.Option(help="Month YYYY-MM (default: latest).")] = None,
    year: Annotated[int | None, typer.Option(help="Whole year YYYY.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    currency: Annotated[str | None, typer.Option(
        help="Currency of the summary (default: home_currency in ledger.toml, else USD).")
    ] = None,
    tolerance: Annotated[str, typer.Option(
        help="Flag a fee that differs from the schedule by more than this.")] = "0.01",
    rules: Annotated[bool, typer.Option(
        "--rules", help="List the fee schedule in effect (bundled plus ledger.toml) instead.")
    ] = False,
    output_format: Annotated[SummaryFormat, typer.Option(
        "--format", help="table for people; json (schema ledger.fees/1) for scripts.")
    ] = SummaryFormat.table,
) -> None:
    """Check every fee you were charged against the published schedules.

    For each earning (Upwork, Fiverr, Freelancer.com, PayPal and Payoneer receipts) the fee
    charged, the fee the schedule expects, the rule and its source, and a flag where they
    differ by more than --tolerance. Upwork's 2016-2023 sliding fee is worked out from each
    client's lifetime billings. Then the effective fee rate per platform and per payment
    route against the field studies' "more than 10%", counted as `ledger report` counts the
    period (the same platform, payment, FX, bank and tax figures). A platform's rate there
    is every cost booked on its own rows (its conversions' and withdrawals' FX too) over its
    gross: not the report's Fee rate (its platform and payment fees) nor its Payout costs
    (what getting its money home cost, wherever that was booked).

    The verdict speaks only for the fees it compared: one it could not (no rule, a service
    the schedule says is not offered, a fee worked out from the schedule itself) is counted
    with its reason, and a period with no earnings or withdrawals says nothing was compared.

    Rules come from the bundled schedule; add or replace rules in ledger.toml under [fees]
    (see `ledger fees --rules` for the ids), e.g.

    \b
      [[fees.upwork.service_fee]]
      id = "upwork.service_fee.2025-05-01"
      default_rate = "0.12"

    Examples:

      ledger fees

      ledger fees --month 2022-03

      ledger fees --year 2024 --format json

      ledger fees --rules
    """
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger
    from rules.fees import Schedule

    ledger = _ledger(missing_ok=rules)  # the bundled schedule needs no ledger
    schedule = Schedule.for_ledger(ledger)
    if rules:
        listing = [r.as_dict() for r in schedule.rules]
        if output_format is SummaryFormat.json:
            from ledger.render.report import to_json

            sys.stdout.write(to_json({"schema": "ledger.fee-rules/1", "rules": listing}))
        else:
            from ledger.render.fees import print_rules

            print_rules(listing, _console())
        return
    data = check_for_ledger(ledger, schedule, month=month, year=year, start=start, end=end,
                            currency=currency, tolerance=_decimal(tolerance, "--tolerance"))
    if output_format is SummaryFormat.json:
        from ledger.render.report import to_json

        sys.stdout.write(to_json(data))
    else:
        from ledger.render.fees import print_check

        print_check(data, _console(), reading_locale(ledger))


def check_for_ledger(ledger: Ledger, schedule: Any, *, month: str | None = None,
                     year: int | None = None, start: str | None = None, end: str | None = None,
                     currency: str | None = None, tolerance: Decimal = Decimal("0.01")) -> dict:
    """The fee check of a ledger for a period, valued with the ledger's FX chain. Its
    summary counts the rows as `ledger report` does (reconcile's matches applied), so both
    commands give the same platform, payment, FX, bank and tax figures for a period."""
    from ledger.counting import pipeline as counting
    from ledger.reports.fee_check import check_fees
    from ledger.reports.report import report_currency, resolve_period
    from rules.fx import FxChain

    rows = ledger.rows()
    if rows.is_empty():
        raise DataError("the ledger is empty", path=ledger.root,
                        hint="import exports first: ledger import FILE")
    period = resolve_period(rows, month=month, year=year, start=start, end=end)
    chain = FxChain.for_ledger(rows, ledger.rates_path)
    counted = counting.for_ledger(ledger, rows, (period.start, period.end), chain=chain).rows
    data = check_fees(rows, schedule, period, tolerance, fx=chain,
                      currency=report_currency(ledger, currency), counted=counted)
    data["period"]["label"] = period.label
    return data


def quote_cmd(
    amount: Annotated[str | None, typer.Argument(
        help="Gross amount the client pays, e.g. 1000 (optional with --target).",
        show_default=False)] = None,
    currency: Annotated[str | None, typer.Argument(
        help="Its currency (default USD).", show_default=False)] = None,
    route: Annotated[str | None, typer.Option(
        help="Where the money goes, comma-separated: upwork,payoneer,bank (places: upwork, "
        "fiverr, freelancer, paypal, payoneer, wise, bank).")] = None,
    to: Annotated[str | None, typer.Option(
        "--to", help="Currency that arrives (default: home_currency in ledger.toml).")] = None,
    date: Annotated[str | None, typer.Option(
        help="Date YYYY-MM-DD whose fees and rate apply (default: today).")] = None,
    compare: Annotated[list[str] | None, typer.Option(
        help="Another route to compare (repeatable); routes are ranked by what arrives.")
    ] = None,
    target: Annotated[str | None, typer.Option(
        help="Monthly net you want to arrive (in --to): answers the hourly rate to charge.")
    ] = None,
    hours: Annotated[str | None, typer.Option(
        help="Billed hours a month, with --target.")] = None,
    country: Annotated[str | None, typer.Option(
        help="Where you live, e.g. PK (default: ledger.toml, else from --to).")] = None,
    tax_status: Annotated[str | None, typer.Option(
        help="Pakistan s.154A status: pseb, filer, non_filer or home_remittance "
        "(default: ledger.toml, else filer).")] = None,
    client_billings: Annotated[str, typer.Option(
        help="What this client already paid you (Upwork's 2016-2023 sliding fee).")] = "0",
    contract_rate: Annotated[str | None, typer.Option(
        help="The contract's own fee rate, e.g. 0.12 (Upwork's variable fee from 2025).")
    ] = None,
    project_type: Annotated[str, typer.Option(
        help="Freelancer.com project: fixed_price, hourly, recruiter or contest.")
    ] = "fixed_price",
    history: Annotated[int, typer.Option(
        "--history", metavar="N", min=0,
        help="Price each hop from your last N transfers on it that `ledger reconcile` "
        "matched (median spread, fees, days); 0: the published schedules only.")] = 10,
    output_format: Annotated[SummaryFormat, typer.Option(
        "--format", help="table for people; json (schema ledger.quote/1) for scripts.")
    ] = SummaryFormat.table,
) -> None:
    """What a payment loses at each hop from client to your bank, and what arrives.

    Each hop shows its fee lines (platform fee, withdrawal fee, FX spread against the mid
    rate, tax withheld) with the rule and its source; the lines add up exactly to the
    difference between what the client paid and what arrives, to the paisa. The mid rate
    comes from your rates.csv, the bundled reference rates (ECB, NBP) or your own
    conversions. Add --compare to rank routes, or --target and --hours for the hourly rate
    that nets a monthly amount.

    A hop you have moved money over before is priced from experience: the median FX spread,
    fees and days in transit of your last --history transfers on it (as `ledger reconcile`
    matched them), with their count and dates; other hops from the published schedules. Each
    line says which; a hop priced by neither (an unpublished spread, such as Upwork's Direct
    to Local Bank with no history) is priced at the mid rate and marked.

    Examples:

      ledger quote 500 USD --route upwork,payoneer,bank --to PKR

      ledger quote 600 USD --route upwork,bank --to PHP --date 2022-03-01

    \b
      ledger quote 500 USD --route upwork,bank --to PKR \\
          --compare upwork,payoneer,bank

      ledger quote --route upwork,bank --to PKR --target 100000 --hours 120

      ledger quote 500 USD --route fiverr,payoneer,bank --to PKR --format json
    """
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger
    from rules import quote as quotes
    from rules.fees import Schedule

    ledger = _ledger(missing_ok=True)  # a quote needs no ledger: its settings if any
    schedule = Schedule.for_ledger(ledger)
    routes = ([route] if route else []) + list(compare or [])
    if not routes:
        raise UsageError("say which way the money goes with --route",
                         hint="e.g. --route " + ", --route ".join(quotes.EXAMPLES[:3]))
    if amount is None and target is None:
        raise UsageError("say how much the client pays (AMOUNT CURRENCY), or ask for an hourly "
                         "rate with --target and --hours",
                         hint="e.g. ledger quote 500 USD --route upwork,payoneer,bank --to PKR")
    currency = (currency or "USD").upper()
    to_currency = (to or ledger.settings().home_currency or currency).upper()
    day = _date(date) if date else dt.date.today()
    fx = _fx_for(ledger) if to_currency != currency.upper() else None
    options: dict[str, Any] = {
        "schedule": schedule, "country": country, "tax_status": tax_status,
        "client_billings": _decimal(client_billings, "--client-billings"),
        "contract_rate": _decimal(contract_rate, "--contract-rate") if contract_rate else None,
        "project_type": project_type}
    if history:
        from ledger.reports.quote_history import measured

        options["history"] = measured(ledger, history, until=day)
    if (target is None) != (hours is None):
        raise UsageError("--target and --hours go together",
                         hint="e.g. --target 100000 --hours 120")
    data: dict[str, Any] = {}
    if amount is not None:
        gross = _decimal(amount, "AMOUNT")
        if len(routes) > 1:
            data = quotes.compare(gross, currency, routes, to_currency, day, fx, **options)
        else:
            data = quotes.quote(gross, currency, routes[0], to_currency, day, fx, **options)
    if target is not None and hours is not None:
        answer = quotes.hourly_target(
            _decimal(target, "--target"), _decimal(hours, "--hours"), currency, routes[0],
            to_currency, day, fx, **options)
        if amount is None:
            data = answer
        else:
            data["target"] = answer
    if output_format is SummaryFormat.json:
        from ledger.render.report import to_json

        sys.stdout.write(to_json(data))
    else:
        from ledger.render.quote import print_quote

        print_quote(data, _console(), reading_locale(ledger))


def _fx_for(ledger: Ledger) -> Any:
    """Mid rates for quotes: the ledger's FX chain (rates.csv, then the user's own
    conversions) through `FxChain.mid`, a missing rate named against rates.csv."""
    from functools import partial
    from types import SimpleNamespace

    from rules.fx import FxChain

    chain = FxChain.for_ledger(ledger.rows(), ledger.rates_path)
    return SimpleNamespace(mid=partial(chain.mid, where=str(ledger.rates_path)))


def _decimal(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        raise UsageError(f"{name} {text!r} is not a number", hint="e.g. 1000 or 1000.50"
                         ) from None
    if not value.is_finite():
        raise UsageError(f"{name} {text!r} is not a number", hint="e.g. 1000 or 1000.50")
    from ledger.core.schema import MAX_AMOUNT_DIGITS

    if abs(value) >= Decimal(10) ** MAX_AMOUNT_DIGITS:
        raise UsageError(f"{name} {text!r} is too large: the limit is 10^{MAX_AMOUNT_DIGITS} "
                         f"({Decimal(10) ** MAX_AMOUNT_DIGITS:,})", hint="e.g. 1000 or 1000.50")
    return value


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date {text!r} is not a date YYYY-MM-DD") from None
    from ledger.reports.report import check_year

    check_year(day.year, f"--date {text}", hint="e.g. --date 2024-06-03")
    return day
