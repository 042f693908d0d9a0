"""`ledger quote` for people: the waterfall of one quote (each hop's lines with their rule,
what arrives, the sources), a ranking of routes, an hourly target; figures as the locale
(ledger.toml) writes them. The data is rules.quote's (`ledger quote --format json`)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.render.fees import figure, percent

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console


def print_quote(data: dict, console: Console, locale: str | None = None) -> None:
    """A quote, a comparison or an hourly target; figures as `locale` writes them."""
    if data.get("schema") == "ledger.quote-target/1":
        print_one(data["quote"], console, locale)
        print_target(data, console, locale)
        return
    if data.get("schema") == "ledger.quote-compare/1":
        from ledger.render.fit import Col, F, fit_table

        console.print(fit_table(
            [Col("Route", min_width=10), F("Arrives"), F("Costs"), F("Rate"), F("Behind best"),
             Col("Priced by", min_width=10, drop=1)],
            [[r["route"] + (" *" if r.get("unpriced") else ""),
              f"{figure(r['arrived'], locale)} {r['currency']}", figure(r["total_cost"], locale),
              percent(r["effective_rate"], locale), figure(r["behind_best"], locale),
              "; ".join(basis(b) for b in r["basis"])]
             for r in data["ranking"]], title="Routes, best first"))
        if any(r.get("unpriced") for r in data["ranking"]):
            console.print("[dim]* a hop priced by neither your history nor a published "
                          "schedule (an unpublished FX spread) is priced at the mid rate: the "
                          "route costs more than shown (set the rule's rate in ledger.toml, or "
                          "import the statements that show what it cost you)[/]")
        print_one(data["quotes"][0], console, locale)
    else:
        print_one(data, console, locale)
    if "target" in data:
        print_target(data["target"], console, locale)


def basis(b: dict) -> str:
    """`upwork->bank: yours (4)`, `payoneer->bank: schedule`, `upwork->bank: neither`."""
    if b["basis"] == "history":
        return f"{b['hop']}: yours ({b['evidence']['count']})"
    return f"{b['hop']}: " + ("schedule" if b["basis"] == "schedule" else "neither")


def print_target(t: dict, console: Console, locale: str | None = None) -> None:
    def g(text: str) -> str:
        return figure(text, locale)

    console.print(
        f"\n[bold]To net {g(t['target'])} {t['to_currency']} a month over {g(t['hours'])} "
        f"hours via {','.join(t['quote']['route'])}: charge {g(t['hourly_rate'])} "
        f"{t['currency']} an hour[/] ({g(t['monthly_gross'])} {t['currency']} a month "
        f"arrives as {g(t['quote']['arrived'])} {t['quote']['arrived_currency']})")


def print_one(q: dict, console: Console, locale: str | None = None) -> None:
    """The waterfall: each hop's lines with their rule, the running amount, what arrives,
    then each rule's source (`?` marks an unconfirmed one)."""
    from ledger.render.fit import Code, Col, F, fit_table
    from ledger.render.report import lit

    def g(text: str) -> str:
        return figure(text, locale)

    converts = q["rate"] is not None
    columns = [Col("Hop", min_width=8), Col("What", min_width=12), F("Amount"),
               *([F(q["to_currency"])] if converts else []), Code("Rule", drop=1)]
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
            value = [_less(line["value"], g)] if converts else []
            rows.append([lit(where), lit(line["what"]),
                         f"{_less(line['amount'], g)} {line['currency']}", *value, lit(rule)])
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
                  f"{percent(q['effective_rate'], locale)} of gross)")
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
    from ledger.render.sources import is_address, print_address

    console.print("[dim]Sources (? = unconfirmed: a default to override in ledger.toml):[/]")
    for rule in q["rules"]:
        if is_address(rule["source"] or ""):  # its own line, never broken
            console.print(f"  {rule['id']}: {rule['rule']}", markup=False)
            print_address(console, rule["source"])
        else:
            console.print(f"  {rule['id']}: {rule['rule']} — {rule['source']}", markup=False)
    for note in q["notes"]:
        console.print(f"[dim]note: {note}[/]")


def _less(amount: str, shown: Callable[[str], str]) -> str:
    """A cost (a JSON decimal) as the waterfall takes it off, `-12.50`, written by `shown`; a
    cost of nothing as `0.00` (never `-0.00`)."""
    return f"-{shown(amount)}" if Decimal(amount) else shown(amount)
