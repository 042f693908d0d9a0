"""`ledger fees` for people: the fee check (charged vs expected, the verdict, the effective
fee rate) and the fee rules in effect, as tables; figures as the locale (ledger.toml) writes
them. The data is ledger.fee_check's (`ledger fees --format json` prints it as is)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def percent(ratio: str | None, locale: str | None = None) -> str:
    """A fee rate as `locale` writes a percentage (12.5%; 12,5 % in de_DE)."""
    from ledger.core.money import percent_for_reading

    return "-" if ratio is None else percent_for_reading(Decimal(ratio), locale)


def figure(text: str | None, locale: str | None = None) -> str:
    """A figure of the JSON (`-1234.50`) grouped as `locale` writes it; "-" for none."""
    from ledger.core.money import group_for_reading

    return "-" if text is None else group_for_reading(Decimal(text), locale)


def print_rules(rules: list[dict], console: Console) -> None:
    """The rules as a table, each one's source cited by number and listed once below (an
    address whole on its own line: ledger.render.sources)."""
    from ledger.render.fit import Code, Col, F, fit_table
    from ledger.render.sources import cite, is_address, numbered, print_sources

    def source(rule: dict) -> tuple[str, str]:
        text = rule["source"] or ""
        return ("", text) if is_address(text) else (text, "")

    sources = numbered(source(r) for r in rules if r["source"])
    console.print(fit_table(
        [Code("Rule"), F("From", justify="left"), F("Until", justify="left"),
         Col("Fee", min_width=12), Code("Confidence", drop=1), F("Source", justify="left")],
        [[r["id"], r["from"] or "", r["until"] or "", r["rule"], r["confidence"],
          cite(sources, source(r)) if r["source"] else ""]
         for r in rules], title="Fee rules in effect"))
    print_sources(sources, console)


def print_check(data: dict, console: Console, locale: str | None = None) -> None:
    """The fee check as tables, amounts and rates as `locale` (ledger.toml) writes them, and
    a verdict that names what was not checked rather than claiming every fee matches."""
    from ledger.render.fit import Code, Col, F, fit_table
    from ledger.render.report import lit
    from ledger.reports.fee_check import verdict

    def g(text: str | None) -> str:
        return figure(text, locale)

    label = data["period"].get("label") or f"{data['period']['from']} to {data['period']['to']}"
    if data["checks"]:
        console.print(fit_table(
            [F("Date", justify="left"), Col("Client", drop=1), F("Currency", justify="left"),
             F("Gross"), F("Charged"), F("Expected"), Code("Rule", drop=2), Code("Status")],
            [[c["date"], lit(c["client"] or ""), c["currency"], g(c["gross"]), g(c["charged"]),
              g(c["expected"]), lit(c["rule"] or "-"),
              f"[red]{c['status']}[/]" if c["flag"] else lit(c["status"])]
             for c in data["checks"]], markup=True, title=f"Fees charged vs expected, {label}"))
    if data.get("withdrawals"):
        console.print(fit_table(
            [F("Date", justify="left"), F("Currency", justify="left"), F("Amount"),
             F("Charged"), F("Expected"), Code("Rule", drop=1), Code("Status")],
            [[w["date"], w["currency"], g(w["amount"]), g(w["charged"]), g(w["expected"]),
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
        f"\n[bold]Effective fee rate: {percent(overall['effective_rate'], locale)}[/] of "
        f"{g(overall['gross'])} {cur} gross (platform {g(overall['platform_fees'])}, payment "
        f"{g(overall['payment_fees'])}, FX {g(overall['fx_cost'])}, bank "
        f"{g(overall['bank_deductions'])}, taxes {g(overall['taxes'])}; counted as `ledger "
        "report` counts them)")
    console.print(f"[dim]field studies: {summary['benchmark']['text']} "
                  f"({summary['benchmark']['source']})[/]")
    if summary["by_platform"] or summary["by_route"]:
        rows = [[p["platform"], f"{g(p['gross'])} gross", g(p["total_fees"]),
                 percent(p["effective_rate"], locale)] for p in summary["by_platform"]]
        rows += [[f"via {r['route']}", f"{g(r['received'])} received", g(r["total_fees"]),
                  percent(r["effective_rate"], locale)] for r in summary["by_route"]]
        # not the report's Fees and Fee rate (platform and payment fees on a platform's
        # money) nor its Payout costs (charged to whose money it was, wherever booked)
        console.print(fit_table(
            [Col("Platform / route"), F("Base"), F("Costs booked there"), F("Rate")], rows,
            title="Costs booked on its own rows (fees, FX, bank, taxes)"))
    if data["rules"]:
        console.print(fit_table(
            [Code("Rule"), Col("Fee", min_width=12), Code("Confidence", drop=1),
             Col("Source", min_width=12, drop=2)],
            [[r["id"], r["rule"], r["confidence"], r["source"]] for r in data["rules"]],
            title="Rules applied"))
    for warning in data["warnings"]:
        console.print(f"[yellow]warning:[/] {lit(warning)}")
