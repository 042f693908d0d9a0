"""`ledger reconcile`'s output: the chains as waterfall tables (the console and the locale
passed in), the JSON document with one item a line, and the CSV (one row per hop and per
unmatched item, each cell made safe for spreadsheets); and what `link` and `unlink` say."""

from __future__ import annotations

from decimal import Decimal

from ledger.reconcile.chains import HOP_COSTS


def to_csv(data: dict) -> str:
    """One row per hop (section hop) and per unmatched item (in_transit, unknown_origin,
    ambiguous), the waterfall lines as columns."""
    import csv
    import io

    from ledger.render.report import safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["section", "chain", "hop", "from", "to", "out", "in", "sent_on", "arrived_on",
              "currency", "sent", *HOP_COSTS, "arrived", "received", "received_currency",
              "rate", "rule", "confidence", "age_days", "status", "ref"]
    writer.writerow(header)
    for c in data["chains"]:
        for n, h in enumerate(c["hops"], 1):
            row = {"section": "hop", "chain": c["id"], "hop": n, "from": h["from"], "to": h["to"],
                   "out": h["out"], "in": " ".join(h["in"]), "sent_on": h["sent_on"],
                   "arrived_on": h["arrived_on"], "currency": h["currency"], "sent": h["sent"],
                   **h["waterfall"], "received": h["received"]["amount"],
                   "received_currency": h["received"]["currency"], "rate": h["rate"] or "",
                   "rule": h["evidence"]["rule"], "confidence": h["confidence"],
                   "ref": " ".join(r for r in [h["refs"]["out"], *h["refs"]["in"]] if r)}
            writer.writerow([safe_cell(row.get(k, "")) for k in header])
    for t in data["in_transit"]:
        writer.writerow([safe_cell(v) for v in (
            "in_transit", "", "", t["account"], "", t["id"], "", t["date"], "", t["currency"],
            t["amount"], *[""] * (len(HOP_COSTS) + 6), t["age_days"], t["status"], t["ref"] or "")])
    for u in data["unknown_origin"]:
        writer.writerow([safe_cell(v) for v in (
            "unknown_origin", "", "", "", u["account"], "", u["id"], "", u["date"],
            u["currency"], "", *[""] * (len(HOP_COSTS) + 1), u["amount"], u["currency"],
            "", "", "", "", "", u["ref"] or "")])
    for a in data["ambiguous"]:
        writer.writerow([safe_cell(v) for v in (
            "ambiguous", "", "", a["account"], "", a["out"], " ".join(a["candidates"]),
            a["date"], "", a["currency"], a["amount"], *[""] * (len(HOP_COSTS) + 9))])
    return out.getvalue()


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
    # the credit as the statement shows it, before deductions booked after it (the header's
    # "arrived" is after them)
    line("[dim]Credited[/]", [f"[dim]{money(h['received']['amount'])} "
                              f"{h['received']['currency']}[/]" for h in hops])
    line("[dim]Days · match[/]", [f"[dim]{h['evidence']['days']} · {h['confidence']}[/]"
                                  for h in hops])
    return fit_table(columns, rows, markup=True, box=box.SIMPLE_HEAD)


def _reference(item: dict) -> str:
    """What the provider's support can look up: its own transaction reference where the export
    has one; else the ledger's row id, for `ledger reconcile link`."""
    from ledger.render.report import ROW_ID, lit

    if item.get("ref"):
        return f"ref {lit(item['ref'])} (row {item['id'][:ROW_ID]})"
    return f"row {item['id'][:ROW_ID]}"


def print_chains(data: dict, label: str, console, locale: str | None = None) -> None:
    """Chains as waterfalls that read downwards (one column per hop, then the chain), totals,
    and the unmatched. Cost lines that are zero everywhere in a chain are left out of its
    table (every line is in --format json/csv); it fits an 80-column terminal. Amounts are
    grouped as `locale` (ledger.toml) writes them."""
    from functools import partial

    from ledger.render.report import ROW_ID, _money, lit

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
                          + (f" (ref {refs})" if refs else f" (row {last['in'][0][:ROW_ID]})")
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
            options = ", ".join(i[:ROW_ID] for i in a["candidates"])
            console.print(f"  {a['date']} {lit(a['account'])} {money(a['amount'])} "
                          f"{a['currency']} · {a['out'][:ROW_ID]} -> one of {options}")
            console.print(f"    settle with: {a['hint']}", markup=False)
    for warning in data["warnings"]:
        console.print(f"[yellow]warning:[/] {lit(warning)}")


def linked_line(out: str, into: str) -> str:
    """`ledger reconcile link`: the withdrawal and the credit now taken as the same money."""
    return f"linked {out} -> {into}"


def unlinked_line(out: str, into: str) -> str:
    """`ledger reconcile unlink`: the pair matching will leave apart from now on."""
    return f"unlinked {out} -> {into}: they will not be matched"
