"""`ledger payouts` output: the summary's tables (workers, value chains, where the money
went, payments), the recorded payments (payouts.csv) as a table or CSV, and the payouts
document as CSV; the console and the locale are passed in, so the library never imports the
renderer."""

from __future__ import annotations

from pathlib import Path


def as_csv(data: dict) -> str:
    """The payouts document as long rows: section,key,field,value."""
    from ledger.render.report import long_csv, long_items, safe_cell

    rows = [row for section, key in (("workers", "worker"), ("contracts", "contract"),
                                     ("value_chain", "party"))
            for row in long_items(section, data[section], key)]
    from ledger.payouts.value_chain import long_rows

    rows += [[section, safe_cell(key), name, value]
             for section, key, name, value in long_rows(data.get("value_chains") or [])]
    return long_csv(data, rows + long_items("payments", data["payments"]))


def print_summary(data: dict, console, locale: str | None = None) -> None:
    """The period's workers, value chains, where the money went and payments; amounts and
    shares as `locale` (ledger.toml) writes them."""
    from decimal import Decimal
    from functools import partial

    from ledger.core.money import percent_for_reading
    from ledger.render.fit import Col, F, fit_table
    from ledger.render.report import _money as money_text

    _money = partial(money_text, locale=locale)
    cur = data["currency"]
    if not data["workers"]:
        console.print("No [[workers]] in ledger.toml yet: see `ledger payouts --help`.",
                      markup=False)
        return
    console.print(fit_table(
        [Col("Worker"), F("Currency", justify="left"), F("Brought forward"), F("Owed"),
         F("Paid"), F("Balance")],
        [[w["worker"], w["currency"], _money(w["opening"]), _money(w["owed"]),
          _money(w["paid"]), _balance(w["closing"], locale)] for w in data["workers"]],
        title=f"Sub-workers · {data['period']['label']}"))
    if data["value_chains"]:
        from ledger.render.chain import chains_table

        console.print(chains_table(data["value_chains"], f"Value chain by contract · {cur} "
                                   "(share of what the client paid)", locale))
    if data["value_chain"]:
        rows = []
        for part in data["value_chain"]:
            if part["role"] != "contractor" and Decimal(part["amount"]) == 0:
                continue
            share = percent_for_reading(Decimal(part["share"]), locale) if part["share"] else ""
            rows.append([part["party"], _money(part["amount"]), share])
        console.print(fit_table([Col("To"), F("Amount"), F("Share")], rows,
                                title=f"Where the clients' money went · {cur}"))
    if data["payments"]:
        console.print(fit_table(
            [F("Date", justify="left"), Col("Worker"), F("Amount"), Col("Matched by", drop=2),
             Col("From", drop=1)],
            [[p["date"], p["worker"] or "?", f"{_money(p['amount'])} {p['currency']}",
              p["matched_by"], f"{p['source']} line {p['line']}"] for p in data["payments"]],
            title="Payments this period"))
    for warning in data["warnings"]:
        console.print(f"warning: {warning}", markup=False)


def _balance(closing: str, locale: str | None = None) -> str:
    """A worker's balance with who owes whom in words (the sign alone says nothing)."""
    from decimal import Decimal

    from ledger.render.report import _money

    value = Decimal(closing)
    if value > 0:
        return f"you owe {_money(closing, locale)}"
    if value < 0:
        return f"paid ahead {_money(closing.lstrip('-'), locale)}"
    return "settled"


RECORDED = ["id", "date", "worker", "amount", "currency", "reference", "note", "recorded"]


def recorded_csv(items: list[dict]) -> str:
    """`ledger payouts list --format csv`: one row per recorded payment, cells made safe."""
    import csv
    import io

    from ledger.render.report import safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RECORDED)
    for item in items:
        writer.writerow([safe_cell(item[k] or "") for k in RECORDED])
    return out.getvalue()


def print_recorded(items: list[dict], console, locale: str | None, short_id: int,
                   in_period: bool = False) -> None:
    """`ledger payouts list`: the recorded payments as a table (ids cut to `short_id`), or
    a line saying there are none (`in_period`: a period was asked for)."""
    if not items:
        console.print("No recorded payments" + (" in that period" if in_period else "")
                      + ": `ledger payouts record --help` adds one.", markup=False)
        return
    from ledger.render.fit import Code, Col, F, fit_table
    from ledger.render.report import _money

    table = fit_table(
        [F("Id", justify="left"), F("Date", justify="left"), Col("Worker"), F("Amount"),
         Code("Reference", drop=1), Col("Note", drop=2)],
        [[item["id"][:short_id], item["date"], item["worker"],
          f"{_money(item['amount'], locale)} {item['currency']}", item["reference"] or "",
          item["note"] or ""] for item in items],
        title="Recorded payments (payouts.csv)")
    console.print(table, markup=False)


def recorded_line(done: dict, short_id: int) -> str:
    """`ledger payouts record`: what was recorded, its short id and where (file, line)."""
    return (f"recorded {done['amount']} {done['currency']} paid to {done['worker']} "
            f"on {done['date']} as {done['id'][:short_id]} "
            f"({Path(done['file']).name} line {done['line']})")


def undone_line(gone: dict, short_id: int) -> str:
    """`ledger payouts undo`: what was undone and the file that keeps it."""
    return (f"undone {gone['id'][:short_id]}: {gone['amount']} {gone['currency']} "
            f"paid to {gone['worker']} on {gone['date']} (kept in "
            f"{Path(gone['undone_file']).name})")
