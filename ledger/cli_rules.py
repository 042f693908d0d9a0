"""`ledger fees` and `ledger quote`: command functions that ledger/cli.py registers
(`app.command("fees")(fees_cmd)`, `app.command("quote")(quote_cmd)`).

Thin like the rest of the CLI: options in, library calls (ledger.fee_check, rules.quote),
rendering out. polars and the rules are imported inside the functions so `ledger --help`
stays fast.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.config import reading_locale
from ledger.errors import DataError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from ledger.store import Ledger


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


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
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", help="table for people; json (schema ledger.fees/1) for scripts.")
    ] = OutputFormat.table,
) -> None:
    """Check every fee you were charged against the published schedules.

    For each earning (Upwork, Fiverr, Freelancer.com, PayPal and Payoneer receipts) the fee
    charged, the fee the schedule expects, the rule and its source, and a flag where they
    differ by more than --tolerance. Upwork's 2016-2023 sliding fee is worked out from each
    client's lifetime billings. Then the effective fee rate per platform and per payment
    route against the field studies' "more than 10%", counted as `ledger report` counts the
    period (the same platform, payment, FX, bank and tax figures).

    The verdict speaks only for the fees it compared: one it could not (no rule, a service
    the schedule says is not offered, a fee worked out from the schedule itself) is counted
    with its reason, and a period with no earnings or withdrawals says nothing was compared.

    Rules come from the bundled schedule; add or replace rules in ledger.toml under [fees]
    (see `ledger fees --rules` for the ids), e.g.

      [[fees.upwork.service_fee]]
      id = "upwork.service_fee.2025-05-01"
      default_rate = "0.12"

    Examples:

      ledger fees

      ledger fees --month 2022-03

      ledger fees --year 2024 --format json

      ledger fees --rules
    """
    from ledger.cli_common import console as _console
    from ledger.cli_common import open_ledger as _ledger
    from rules.fees import Schedule

    ledger = _ledger()
    schedule = Schedule.for_ledger(ledger)
    if rules:
        listing = [r.as_dict() for r in schedule.rules]
        if output_format is OutputFormat.json:
            from ledger.render import to_json

            sys.stdout.write(to_json({"schema": "ledger.fee-rules/1", "rules": listing}))
        else:
            _print_rules(listing, _console())
        return
    data = check_for_ledger(ledger, schedule, month=month, year=year, start=start, end=end,
                            currency=currency, tolerance=_decimal(tolerance, "--tolerance"))
    if output_format is OutputFormat.json:
        from ledger.render import to_json

        sys.stdout.write(to_json(data))
    else:
        _print_check(data, _console(), reading_locale(ledger))


def check_for_ledger(ledger: Ledger, schedule: Any, *, month: str | None = None,
                     year: int | None = None, start: str | None = None, end: str | None = None,
                     currency: str | None = None, tolerance: Decimal = Decimal("0.01")) -> dict:
    """The fee check of a ledger for a period, valued with the ledger's FX chain. Its
    summary counts the rows as `ledger report` does (reconcile's matches applied), so both
    commands give the same platform, payment, FX, bank and tax figures for a period."""
    from ledger import counting
    from ledger.fee_check import check_fees
    from ledger.report import report_currency, resolve_period
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
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", help="table for people; json (schema ledger.quote/1) for scripts.")
    ] = OutputFormat.table,
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

      ledger quote 500 USD --route upwork,bank --compare upwork,payoneer,bank --to PKR

      ledger quote --route upwork,payoneer,bank --to PKR --target 100000 --hours 120

      ledger quote 500 USD --route fiverr,payoneer,bank --to PKR --format json
    """
    from ledger.cli_common import console as _console
    from ledger.cli_common import open_ledger as _ledger
    from rules import quote as quotes
    from rules.fees import Schedule

    ledger = _ledger()
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
    to_currency = (to or ledger.config().get("home_currency") or currency).upper()
    day = _date(date) if date else dt.date.today()
    fx = _fx_for(ledger) if to_currency != currency.upper() else None
    options: dict[str, Any] = {
        "schedule": schedule, "country": country, "tax_status": tax_status,
        "client_billings": _decimal(client_billings, "--client-billings"),
        "contract_rate": _decimal(contract_rate, "--contract-rate") if contract_rate else None,
        "project_type": project_type}
    if history:
        from ledger.quote_history import measured

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
    if output_format is OutputFormat.json:
        from ledger.render import to_json

        sys.stdout.write(to_json(data))
    else:
        _print_quote(data, _console(), reading_locale(ledger))


class _LedgerRates:
    """The ledger's FX chain seen as `mid(date, from, to) -> (rate, provenance)`."""

    def __init__(self, chain: Any, where: str) -> None:
        self.chain = chain
        self.where = where

    def mid(self, date: dt.date, source: str, target: str
            ) -> tuple[Decimal, str, dt.date | None]:
        import polars as pl

        needs = pl.DataFrame({"date": [date], "currency": [source]},
                             schema={"date": pl.Date, "currency": pl.String})
        found = self.chain.lookup(needs, target)
        row = found.row(0, named=True) if found.height else None
        if row is None or row["rate"] is None:
            raise DataError(f"no {source}->{target} rate for {date}", path=self.where,
                            hint=f"add a line `{date},{source},{target},RATE` (the mid rate) to "
                            "rates.csv in the ledger directory")
        provenance = f"{row['provider']}: {row['detail']}"
        if row["rate_date"] is not None and row["rate_date"] != date:
            provenance += f" (rate of {row['rate_date']}, the nearest to {date})"
        return Decimal(row["rate"]), provenance, row["rate_date"]


def _fx_for(ledger: Ledger) -> _LedgerRates:
    """Mid rates for quotes from the ledger's FX chain (rates.csv, then the user's own
    conversions). The lead may swap this for the shared `mid_rate` helper."""
    from rules.fx import FxChain

    chain = FxChain.for_ledger(ledger.rows(), ledger.rates_path)
    return _LedgerRates(chain, str(ledger.rates_path))


def _decimal(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        raise UsageError(f"{name} {text!r} is not a number", hint="e.g. 1000 or 1000.50"
                         ) from None
    if not value.is_finite():
        raise UsageError(f"{name} {text!r} is not a number", hint="e.g. 1000 or 1000.50")
    from ledger.schema import MAX_AMOUNT_DIGITS

    if abs(value) >= Decimal(10) ** MAX_AMOUNT_DIGITS:
        raise UsageError(f"{name} {text!r} is too large: the limit is 10^{MAX_AMOUNT_DIGITS} "
                         f"({Decimal(10) ** MAX_AMOUNT_DIGITS:,})", hint="e.g. 1000 or 1000.50")
    return value


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date {text!r} is not a date YYYY-MM-DD") from None
    from ledger.report import check_year

    check_year(day.year, f"--date {text}", hint="e.g. --date 2024-06-03")
    return day


# --- rendering ----------------------------------------------------------------------------

def _percent(ratio: str | None, locale: str | None = None) -> str:
    """A fee rate as `locale` writes a percentage (12.5%; 12,5 % in de_DE)."""
    from ledger.money import percent_for_reading

    return "-" if ratio is None else percent_for_reading(Decimal(ratio), locale)


def _g(text: str | None, locale: str | None = None) -> str:
    """A figure of the JSON (`-1234.50`) grouped as `locale` writes it; "-" for none."""
    from ledger.money import group_for_reading

    return "-" if text is None else group_for_reading(Decimal(text), locale)


def _print_rules(rules: list[dict], console: Console) -> None:
    from ledger.render_fit import Col, F, fit_table

    console.print(fit_table(
        [Col("Rule", min_width=12), F("From", justify="left"), F("Until", justify="left"),
         Col("Fee", min_width=12), Col("Confidence", min_width=6, drop=2),
         Col("Source", min_width=12, drop=1)],
        [[r["id"], r["from"] or "", r["until"] or "", r["rule"], r["confidence"], r["source"]]
         for r in rules], title="Fee rules in effect"))


def _print_check(data: dict, console: Console, locale: str | None = None) -> None:
    """The fee check as tables, amounts and rates as `locale` (ledger.toml) writes them, and
    a verdict that names what was not checked rather than claiming every fee matches."""
    from ledger.fee_check import verdict
    from ledger.render import lit
    from ledger.render_fit import Col, F, fit_table

    def g(text: str | None) -> str:
        return _g(text, locale)

    label = data["period"].get("label") or f"{data['period']['from']} to {data['period']['to']}"
    if data["checks"]:
        console.print(fit_table(
            [F("Date", justify="left"), Col("Client", drop=1), F("Gross"), F("Charged"),
             F("Expected"), Col("Rule", min_width=10), Col("Status", min_width=8)],
            [[c["date"], lit(c["client"] or ""), g(c["gross"]), g(c["charged"]),
              g(c["expected"]), lit(c["rule"] or "-"),
              f"[red]{c['status']}[/]" if c["flag"] else lit(c["status"])]
             for c in data["checks"]], markup=True, title=f"Fees charged vs expected, {label}"))
    if data.get("withdrawals"):
        console.print(fit_table(
            [F("Date", justify="left"), F("Amount"), F("Charged"), F("Expected"),
             Col("Rule", min_width=10), Col("Status", min_width=8)],
            [[w["date"], g(w["amount"]), g(w["charged"]), g(w["expected"]),
              lit(w["rule"] or f"? ({w['method'] or 'method unknown'})"),
              f"[red]{w['status']}[/]" if w["flag"] else lit(w["status"])]
             for w in data["withdrawals"]], markup=True,
            title="Withdrawal fees charged vs expected"))
    for line in verdict(data):
        console.print(line, markup=False)
    summary = data["summary"]
    overall = summary["overall"]
    cur = summary["currency"]
    console.print(
        f"\n[bold]Effective fee rate: {_percent(overall['effective_rate'], locale)}[/] of "
        f"{g(overall['gross'])} {cur} gross (platform {g(overall['platform_fees'])}, payment "
        f"{g(overall['payment_fees'])}, FX {g(overall['fx_cost'])}, bank "
        f"{g(overall['bank_deductions'])}, taxes {g(overall['taxes'])}; counted as `ledger "
        "report` counts them)")
    console.print(f"[dim]field studies: {summary['benchmark']['text']} "
                  f"({summary['benchmark']['source']})[/]")
    if summary["by_platform"] or summary["by_route"]:
        rows = [[p["platform"], f"{g(p['gross'])} gross", g(p["total_fees"]),
                 _percent(p["effective_rate"], locale)] for p in summary["by_platform"]]
        rows += [[f"via {r['route']}", f"{g(r['received'])} received", g(r["total_fees"]),
                  _percent(r["effective_rate"], locale)] for r in summary["by_route"]]
        console.print(fit_table([Col("Platform / route"), F("Base"), F("Fees"), F("Rate")],
                                rows))
    if data["rules"]:
        console.print(fit_table(
            [Col("Rule", min_width=12), Col("Fee", min_width=12),
             Col("Confidence", min_width=6, drop=2), Col("Source", min_width=12, drop=1)],
            [[r["id"], r["rule"], r["confidence"], r["source"]] for r in data["rules"]],
            title="Rules applied"))
    for warning in data["warnings"]:
        console.print(f"[yellow]warning:[/] {lit(warning)}")


def _print_quote(data: dict, console: Console, locale: str | None = None) -> None:
    """A quote, a comparison or an hourly target; figures as `locale` writes them."""
    if data.get("schema") == "ledger.quote-target/1":
        _print_one(data["quote"], console, locale)
        _print_target(data, console, locale)
        return
    if data.get("schema") == "ledger.quote-compare/1":
        from ledger.render_fit import Col, F, fit_table

        console.print(fit_table(
            [Col("Route", min_width=10), F("Arrives"), F("Costs"), F("Rate"), F("Behind best"),
             Col("Priced by", min_width=10, drop=1)],
            [[r["route"] + (" *" if r.get("unpriced") else ""),
              f"{_g(r['arrived'], locale)} {r['currency']}", _g(r["total_cost"], locale),
              _percent(r["effective_rate"], locale), _g(r["behind_best"], locale),
              "; ".join(_basis(b) for b in r["basis"])]
             for r in data["ranking"]], title="Routes, best first"))
        if any(r.get("unpriced") for r in data["ranking"]):
            console.print("[dim]* a hop priced by neither your history nor a published "
                          "schedule (an unpublished FX spread) is priced at the mid rate: the "
                          "route costs more than shown (set the rule's rate in ledger.toml, or "
                          "import the statements that show what it cost you)[/]")
        _print_one(data["quotes"][0], console, locale)
    else:
        _print_one(data, console, locale)
    if "target" in data:
        _print_target(data["target"], console, locale)


def _basis(b: dict) -> str:
    """`upwork->bank: yours (4)`, `payoneer->bank: schedule`, `upwork->bank: neither`."""
    if b["basis"] == "history":
        return f"{b['hop']}: yours ({b['evidence']['count']})"
    return f"{b['hop']}: " + ("schedule" if b["basis"] == "schedule" else "neither")


def _print_target(t: dict, console: Console, locale: str | None = None) -> None:
    def g(text: str) -> str:
        return _g(text, locale)

    console.print(
        f"\n[bold]To net {g(t['target'])} {t['to_currency']} a month over {g(t['hours'])} "
        f"hours via {','.join(t['quote']['route'])}: charge {g(t['hourly_rate'])} "
        f"{t['currency']} an hour[/] ({g(t['monthly_gross'])} {t['currency']} a month "
        f"arrives as {g(t['quote']['arrived'])} {t['quote']['arrived_currency']})")


def _print_one(q: dict, console: Console, locale: str | None = None) -> None:
    """The waterfall: each hop's lines with their rule, the running amount, what arrives,
    then each rule's source (`?` marks an unconfirmed one)."""
    from ledger.render import lit
    from ledger.render_fit import Col, F, fit_table

    def g(text: str) -> str:
        return _g(text, locale)

    converts = q["rate"] is not None
    columns = [Col("Hop", min_width=8), Col("What", min_width=12), F("Amount"),
               *([F(q["to_currency"])] if converts else []), Col("Rule", min_width=10, drop=1)]
    rows: list[list[str]] = []
    gross_row = [f"{g(q['gross'])} {q['currency']}"] + ([g(q["gross_value"])] if converts
                                                          else [])
    rows.append(["client pays", "gross", *gross_row, ""])
    for hop in q["hops"]:
        if not hop["lines"]:
            continue
        where = hop["at"] + (f" -> {hop['to']}" if hop["to"] else f" ({hop['step']})")
        for line in hop["lines"]:
            rule = (line["rule"] or "-") + (" ?" if line["confidence"] == "unconfirmed"
                                             else "")
            if line.get("basis") == "history":
                rule = f"yours: {hop['evidence']['count']} transfers"
            elif line.get("basis") == "none":
                rule = "neither: mid rate"
            value = [f"-{g(line['value'])}"] if converts else []
            rows.append([lit(where), lit(line["what"]),
                         f"-{g(line['amount'])} {line['currency']}", *value, lit(rule)])
            where = ""
        rows.append(["", "[dim]after this hop[/]",
                     f"[dim]{g(hop['amount_out'])} {hop['currency_out']}[/]",
                     *([""] if converts else []), ""])
    sections = (len(rows),)
    rows.append(["", "[bold]arrives[/]", f"[bold]{g(q['arrived'])} {q['arrived_currency']}[/]",
                 *([f"[bold]{g(q['arrived'])}[/]"] if converts else []), ""])
    console.print(fit_table(columns, rows, markup=True, sections=sections,
                            title=f"{g(q['gross'])} {q['currency']} via "
                            f"{' -> '.join(q['route'])} on {q['date']}"))
    if q["rate"]:
        console.print(f"mid rate {q['rate']['from']}->{q['rate']['to']} "
                      f"{g(q['rate']['rate'])} ({q['rate']['provenance']}); gross at mid: "
                      f"{g(q['gross_value'])} {q['to_currency']}")
    console.print(f"[bold]Arrives: {g(q['arrived'])} {q['arrived_currency']}[/] (costs "
                  f"{g(q['total_cost'])} {q['to_currency']}, "
                  f"{_percent(q['effective_rate'], locale)} of gross)")
    for b in q.get("basis", []):
        if b["basis"] == "history":
            e = b["evidence"]
            console.print(f"{b['hop']}: priced from your last {e['count']} transfers (sent "
                          f"{e['first']} to {e['last']}), median {e['days']} days in transit",
                          markup=False)
        else:
            console.print(f"{b['hop']}: " + ("published schedule (no transfers of yours on "
                                             "this hop)" if b["basis"] == "schedule" else
                                             "priced by neither your history nor a published "
                                             "schedule"), markup=False)
    console.print("[dim]Sources (? = unconfirmed: a default to override in ledger.toml):[/]")
    for rule in q["rules"]:
        console.print(f"[dim]  {rule['id']}: {rule['rule']} — {rule['source']}[/]")
    for note in q["notes"]:
        console.print(f"[dim]note: {note}[/]")
