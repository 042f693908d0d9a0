"""`ledger reconcile`: the payout chain platform -> wallet -> bank, hop by hop; `link`/`unlink`.

Registered by ledger/cli/main.py (`app.add_typer(reconcile_app, name="reconcile")`). Thin: options
in, ledger.reconcile calls, rendering out; heavy imports stay inside the functions.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ledger.core.config import reading_locale


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


reconcile_app = typer.Typer(invoke_without_command=True)


@reconcile_app.callback()
def reconcile_cmd(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option(help="Month YYYY-MM (default: latest).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    output_format: Annotated[Format, typer.Option(
        "--format", help="table for people; json (schema ledger.reconcile/1) or csv for "
        "scripts.")] = Format.table,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Day YYYY-MM-DD to age money in transit from (default: today).")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to a file.")
                      ] = None,
    online: Annotated[bool, typer.Option(
        "--online", help="Fetch rates no offline source has (network; cached).")] = False,
) -> None:
    """Every chain of transfers between your accounts in a period, with a waterfall per hop.

    A platform withdrawal is matched with the wallet's receipt, a wallet withdrawal with the
    bank credit, by amount (allowing for the fees the rows show, and for conversions at the
    reference rate within a tolerance), date window per provider and references. Each hop
    shows withdrawal fee, wallet fees, FX spread against the reference rate, bank and
    intermediary deductions, tax, and what arrived. Then: money sent but not received yet
    (with its age and the provider's usual delay), money received with no known origin, and
    pairs that could be matched more than one way: settle those with `ledger reconcile link`.

    Windows and tolerances are in ledger.toml:

    \b
      [reconcile]
      window_days = {upwork = 5, payoneer = 3}
      tolerance = "0.03"
      max_split_parts = 4    # credits one withdrawal may arrive in

    Examples:

      ledger reconcile

      ledger reconcile --month 2024-06 --format json

      ledger reconcile --from 2024-01-01 --to 2024-06-30 --format csv -o chains.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    import datetime as dt

    import polars as pl

    from ledger import reconcile
    from ledger.cli.common import console as _console
    from ledger.cli.common import emit as _emit
    from ledger.cli.common import open_ledger as _ledger
    from ledger.core.errors import DataError, UsageError
    from ledger.render import reconcile as reconcile_render
    from ledger.reports import report

    ledger = _ledger()
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
    result = reconcile.for_ledger(ledger, (period.start, period.end), online=online,
                                  as_of=day, rows=rows)
    data = reconcile.to_json(result)
    if output_format is Format.json:
        _emit(json_lines(data), output)
    elif output_format is Format.csv:
        _emit(reconcile_render.to_csv(data), output)
    else:
        console = _console()
        if output is not None:
            with console.capture() as capture:
                print_chains(data, period.label, console, reading_locale(ledger))
            _emit(capture.get(), output)
        else:
            print_chains(data, period.label, console, reading_locale(ledger))


@reconcile_app.command("link")
def link_cmd(
    first: Annotated[str, typer.Argument(help="Row id (or unique prefix) of one side.")],
    second: Annotated[str, typer.Argument(help="Row id (or prefix) of the other side.")],
) -> None:
    """Say that a withdrawal and a credit are the same money (either order).

    Use it for the pairs `ledger reconcile` lists as ambiguous, or to link a pair it did not
    match. Links are kept in links.json in the ledger directory by row id, so they survive
    `ledger rebuild`. A withdrawal that arrived in several credits takes one link per credit.

    Examples:

      ledger reconcile link 3f2a91c0 77be0d12
    """
    from ledger import reconcile
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger

    done = reconcile.link(_ledger(), first, second)
    out, into = done["linked"]
    _console().print(f"linked {out} -> {into}")


@reconcile_app.command("unlink")
def unlink_cmd(
    first: Annotated[str, typer.Argument(help="Row id (or unique prefix) of one side.")],
    second: Annotated[str, typer.Argument(help="Row id (or prefix) of the other side.")],
) -> None:
    """Undo a link, or stop `ledger reconcile` from matching two rows it matched by itself.

    Examples:

      ledger reconcile unlink 3f2a91c0 77be0d12
    """
    from ledger import reconcile
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger

    done = reconcile.unlink(_ledger(), first, second)
    out, into = done["unlinked"]
    _console().print(f"unlinked {out} -> {into}: they will not be matched")


def json_lines(data: dict) -> str:
    """The JSON document with each item of a list on its own line (a chain, an unmatched
    row): still one document for any parser, and written by the C encoder, where an indented
    dump runs in pure Python (seconds for a year of a busy ledger's chains)."""
    import json

    def dump(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)

    fields = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            items = ",\n    ".join(dump(item) for item in value)
            fields.append(f"  {dump(key)}: [\n    {items}\n  ]")
        else:
            fields.append(f"  {dump(key)}: {dump(value)}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


LABELS = {"platform_fee": "Platform fee", "withdrawal_fee": "Withdrawal fee",
          "wallet_fees": "Wallet fees", "fx_spread": "FX spread", "bank_deductions":
          "Bank & intermediary", "tax": "Tax", "arrived": "Arrived"}


def _chain_table(c: dict, locale: str | None = None):  # -> rich.table.Table
    """One chain's waterfall: a column per hop (then the chain's, when it has two or more),
    a row per line; cost lines that are zero everywhere are left out. Amounts are grouped
    as `locale` (ledger.toml) writes them."""
    from functools import partial

    from rich import box

    from ledger.render.fit import Col, F, fit_table
    from ledger.render.report import _money, lit

    money = partial(_money, locale=locale)

    hops = c["hops"]
    chained = len(hops) > 1
    columns = [Col(c["currency"], min_width=10)]
    columns += [F(f"{n}. {lit(h['from'])}\n-> {lit(h['to'])}") for n, h in enumerate(hops, 1)]
    if chained:
        columns.append(F("Chain"))
    rows: list[list[str]] = []

    def line(label: str, cells: list[str], whole: str = "") -> None:
        rows.append([label, *cells, *([whole] if chained else [])])

    line("Sent", [money(h["sent"]) for h in hops], money(c["sent"]))
    for key, name in LABELS.items():
        values = [h["waterfall"][key] for h in hops]
        if key != "arrived" and any(Decimal(v) for v in [*values, c["costs"][key]]):
            line(f"- {name}", [money(v) for v in values], money(c["costs"][key]))
    line("[bold]= Arrived[/]", [f"[bold]{money(h['waterfall']['arrived'])}[/]" for h in hops],
         f"[bold]{money(c['arrived'])}[/]")
    line("[dim]Received[/]", [f"[dim]{money(h['received']['amount'])} "
                              f"{h['received']['currency']}[/]" for h in hops])
    line("[dim]Days · match[/]", [f"[dim]{h['evidence']['days']} · {h['confidence']}[/]"
                                  for h in hops])
    return fit_table(columns, rows, markup=True, box=box.SIMPLE_HEAD)


def _reference(item: dict) -> str:
    """What the provider's support can look up: its own transaction reference where the export
    has one; else the ledger's row id, for `ledger reconcile link`."""
    from ledger.render.report import lit

    if item.get("ref"):
        return f"ref {lit(item['ref'])} (row {item['id'][:8]})"
    return f"row {item['id'][:8]}"


def print_chains(data: dict, label: str, console, locale: str | None = None) -> None:
    """Chains as waterfalls that read downwards (one column per hop, then the chain), totals,
    and the unmatched. Cost lines that are zero everywhere in a chain are left out of its
    table (every line is in --format json/csv); it fits an 80-column terminal. Amounts are
    grouped as `locale` (ledger.toml) writes them."""
    from functools import partial

    from ledger.render.report import _money, lit

    money = partial(_money, locale=locale)

    if not data["chains"]:
        console.print(f"No matched payout chains in {label}.")
    for c in data["chains"]:
        cur = c["currency"]
        arrived = c["arrived_as"]
        title = (f"Chain {c['id'][:8]} · {c['hops'][0]['sent_on']} · sent {money(c['sent'])} "
                 f"{cur} · arrived {money(arrived['amount'])} {arrived['currency']} in "
                 f"{arrived['account']}")
        console.print(f"[bold]{title}[/]")
        console.print(_chain_table(c, locale))
        if c["possible_loss"]:
            last = c["hops"][-1]
            refs = ", ".join(lit(r) for r in last["refs"]["in"] if r)
            console.print(f"[red]  possible loss: {money(c['possible_loss'])} {cur} arrived "
                          "short beyond the known costs: ask the bank for the remittance "
                          f"advice of the credit of {money(last['received']['amount'])} "
                          f"{last['received']['currency']} on {last['arrived_on']}"
                          + (f" (ref {refs})" if refs else f" (row {last['in'][0][:8]})")
                          + (f", sent as ref {lit(c['hops'][0]['refs']['out'])}"
                             if c["hops"][0]["refs"]["out"] else "") + "[/]")
    for t in data["totals"]:
        cur = t["currency"]
        console.print(f"Total {cur}: {t['chains']} chain(s), sent {money(t['sent'])}, costs "
                      f"{money(t['total_costs'])}, arrived {money(t['arrived'])}; in transit "
                      f"{money(t['in_transit'])} ({t['in_transit_count']})")
    if data["in_transit"]:
        console.print("[bold]Sent, not received yet[/]")
        for t in data["in_transit"]:
            flag = "[red]overdue: chase it[/]" if t["status"] == "overdue" else "in transit"
            console.print(f"  {t['date']} {lit(t['account'])} {money(t['amount'])} {t['currency']}"
                          f" · {t['age_days']} days (usually {t['usual_days']}) · {flag} · "
                          f"{_reference(t)}")
    if data["unknown_origin"]:
        console.print("[bold]Received, origin unknown[/]")
        for u in data["unknown_origin"]:
            console.print(f"  {u['date']} {lit(u['account'])} {money(u['amount'])} "
                          f"{u['currency']} · {_reference(u)} · {lit(u['description'])}")
    if data["ambiguous"]:
        console.print("[bold]Ambiguous: more than one credit could be this withdrawal[/]")
        for a in data["ambiguous"]:
            options = ", ".join(i[:8] for i in a["candidates"])
            console.print(f"  {a['date']} {lit(a['account'])} {money(a['amount'])} "
                          f"{a['currency']} · {a['out'][:8]} -> one of {options}")
            console.print(f"    settle with: {a['hint']}", markup=False)
    for warning in data["warnings"]:
        console.print(f"[yellow]warning:[/] {lit(warning)}")
