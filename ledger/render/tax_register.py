"""The remittance register (`ledger.tax_register/1`) as a terminal table, a CSV and an HTML
page that prints on A4. Lays out what ledger.tax_register returned; computes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

COLUMNS = (
    ("date", "Date"), ("bank", "Bank"), ("bank_ref", "Bank ref (PRC/FIRA)"),
    ("from", "From"), ("foreign", "Foreign"), ("rate", "Rate"), ("amount", "Credited"),
    ("charges", "Charges"), ("tax", "Tax"), ("net", "Net"), ("carried", "Earnings carried"))
"""The register's columns, as printed (table and HTML)."""


def _g(value: str | None, locale: str | None = None) -> str:
    """A money string grouped for reading (`41,415.00`; `en_IN`: `1,25,000.50`)."""
    from decimal import Decimal

    from ledger.core.money import group_for_reading

    return "—" if value is None else group_for_reading(Decimal(value), locale)


def _cells(item: dict, locale: str | None = None) -> dict[str, str]:
    foreign = (f"{_g(item['foreign_amount'], locale)} {item['foreign_currency']}"
               if item.get("foreign_amount") else "—")
    from decimal import Decimal

    from ledger.core.money import percent_for_reading

    carried = "; ".join(
        f"{c['platform']}{' / ' + c['client'] if c['client'] else ''} "
        f"{percent_for_reading(Decimal(str(c['share'])), locale, 0)}"
        for c in item.get("carried", [])) or "—"
    return {"date": item["date"], "bank": item["bank"],
            "bank_ref": item["bank_ref"] or "—",
            "from": item["from"] or "—", "foreign": foreign,
            "rate": _g(item["rate"], locale) if item["rate"] else "—",
            "amount": f"{_g(item['amount'], locale)} {item['currency']}",
            "charges": _g(item["charges"], locale), "tax": _g(item["tax"], locale),
            "net": _g(item["net"], locale), "carried": carried}


TABLE = ("date", "bank_ref", "from", "foreign", "rate", "amount", "charges", "tax", "net")
"""The terminal's columns (`from`, a name, is the first to go on a narrow terminal): the bank,
the chain and the earnings carried are listed below the table."""


def _tax_note(item: dict, locale: str | None = None) -> str:
    """` · tax withheld 0.25% (rule ... 1% for your status)`, when a rule is in force."""
    if not item.get("tax_rule"):
        return ""
    from decimal import Decimal

    from ledger.core.money import percent_for_reading

    def percent(rate: object) -> str:  # exact: a rate is a decimal string, shown to 0.01%
        return percent_for_reading(Decimal(str(rate)), locale, 2)

    withheld = percent(item["tax_rate"]) if item.get("tax_rate") else "—"
    rule = percent(item["tax_rule_rate"]) if item.get("tax_rule_rate") else "?"
    return f" · tax withheld {withheld} ({item['tax_rule']}: {rule} for your status)"


def print_register(data: dict, console: Console) -> None:
    from rich import box

    from ledger.render.fit import Col, F, fit_table

    cur = data["currency"]
    loc = data.get("locale")
    titles = dict(COLUMNS)
    console.print(f"[bold]Remittance register, {data['period']['label']}[/] · {cur}")
    console.print(f"[dim]{data['notice']}[/]\n")
    if not data["remittances"] and not data["untraced"]:
        seen = data.get("ledger_span")
        console.print("No credits into a local bank in this tax year"
                      + (f"; the ledger has rows from {seen['from']} to {seen['to']}."
                         if seen else "."), markup=False)
    columns = [Col(titles[k], drop=1) if k == "from" else
               F({"bank_ref": "Bank ref"}.get(k, titles[k]),
                 justify="right" if k in ("rate", "amount", "charges", "tax", "net") else "left")
               for k in TABLE]
    rows = []
    for item in data["remittances"]:
        cells = _cells(item, loc)
        if item["currency"] == cur:
            cells["amount"] = _g(item["amount"], loc)
        rows.append([cells[k] for k in TABLE])
    if data["remittances"]:
        console.print(fit_table(columns, rows, box=box.SIMPLE_HEAD))
        if any(not item["bank_ref"] for item in data["remittances"]):
            console.print("[dim]Ref: the bank's reference on the credit, the key to its PRC / "
                          "FIRA / FIRC; — where the statement shows none: ask the bank for the "
                          "certificate by date and amount.[/]")
        console.print("[bold]The chain behind each credit[/] (`ledger reconcile`), whose "
                      "earnings it carried, and the statement line")
        for item in data["remittances"]:
            console.print(f"  {item['date']}: {item['chain']} · {_cells(item, loc)['carried']}"
                          f" · {item['match']} · {item['statement']}{_tax_note(item, loc)}",
                          markup=False)
    rows = [[m["month"], str(m["count"]),
             *(_g(m[k], loc) for k in ("local", "charges", "tax", "net"))]
            for m in data["months"]]
    t = data["totals"]
    styles: list[str | None] = [None] * len(rows)
    for key, name in (("traced", "Traced"), ("untraced", "No traceable origin"),
                      ("all", "Year")):
        rows.append([name, str(t[key]["count"]),
                     *(_g(t[key][k], loc) for k in ("local", "charges", "tax", "net"))])
        styles.append("bold" if key == "all" else None)
    console.print(fit_table(
        [Col("Month", min_width=7), *(F(title) for title in ("Credits", f"Credited {cur}",
                                                               "Charges", "Tax", "Net"))],
        rows, title="Per month", box=box.SIMPLE_HEAD, row_styles=styles))
    if data["untraced"]:
        console.print("[bold]Credits with no traceable origin[/] (no withdrawal explains "
                      "them; `ledger reconcile link` if you know where they came from)")
        for item in data["untraced"]:
            console.print(f"  {item['date']} {item['bank']} {_g(item['amount'], loc)} "
                          f"{item['currency']} · {item['description']} · {item['statement']}",
                          markup=False)
    end = data["not_home"]["end"]
    console.print(f"\n[bold]Not in a local bank on {end['date']}[/] (valued that day, at "
                  "the last rate on or before it): "
                  f"{_g(end['total'], loc)} {cur}")
    for i in end["items"]:
        console.print(f"  {i['what']}: {i['account']} {_g(i['amount'], loc)} {i['currency']}"
                      + (f" since {i['since']}" if i.get("since") else "")
                      + f" = {_g(i['value'], loc)} {cur}"
                      + (f" (rate {_g(i['rate'], loc)}, {i['rate_source']})" if i.get("rate")
                         else ""),
                      markup=False)
    recon = data["reconciliation"]["lines"]
    console.print(fit_table(
        [Col("line", min_width=16), F(cur)], [[line["label"], _g(line["amount"], loc)]
                                              for line in recon],
        title="Income and remittances", box=None, show_header=False,
        row_styles=["bold" if line["key"] in ("expected_home", "remitted", "difference")
                    else None for line in recon]))
    console.print("[bold]Rules applied[/]")
    for rule in data["rules"]:
        console.print(f"  {rule['id']}: {rule.get('rule') or ''} · source: {rule['source']}",
                      markup=False)
    for warning in data["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")


def to_csv(data: dict) -> str:
    """Long `section,key,field,value` rows (the report's CSV layout, formula-safe): one
    `remittance` block per credit keyed by its date and row id, then months, totals, the
    money not home, the reconciliation and the rules."""
    from ledger.render.report import long_csv, long_items, safe_cell

    rows: list[list] = [["period", "", "label", safe_cell(data["period"]["label"])],
                        ["notice", "", "text", safe_cell(data["notice"])]]
    for section in ("remittances", "untraced"):
        for item in data[section]:
            key = f"{item['date']} {item['id'][:12]}"
            flat = {k: v for k, v in item.items() if k != "carried"}
            flat["carried"] = "; ".join(f"{c['platform']}|{c['client'] or ''}|{c['share']}|"
                                        f"{c['amount']}" for c in item["carried"])
            rows += [[section[:-1] if section == "remittances" else "untraced", key, f,
                      safe_cell(v)] for f, v in flat.items()]
    rows += long_items("month", data["months"], "month")
    rows += [["totals", k, f, v] for k, part in data["totals"].items()
             for f, v in part.items()]
    for number, i in enumerate(data["not_home"]["end"]["items"], 1):
        rows += [["not_home_at_end", number, f, safe_cell(v)] for f, v in i.items()]
    rows += [["reconciliation", line["key"], "amount", line["amount"]]
             for line in data["reconciliation"]["lines"]]
    for rule in data["rules"]:
        rows.append(["rules", safe_cell(rule["id"]), "source", safe_cell(rule["source"])])
    return long_csv(data, rows)


PRINT = """
@page{size:A4 landscape;margin:12mm}
main{max-width:none}
table.register{font-size:.8rem}
table.register td{padding:.2rem .3rem}
table.register td:first-child{text-align:left}
@media print{body{font-size:11px;background:#fff;color:#000}
.scroll{overflow:visible}tr{break-inside:avoid}h2{break-after:avoid}}
"""


def to_html(data: dict) -> str:
    """One self-contained page (the report's styles and CSP), laid out for A4 landscape."""
    from ledger.render.html import CSP, STYLE, _e, _grouped, _num

    cur, loc = data["currency"], data.get("locale")
    title = f"Remittance register · {data['period']['label']} · {cur}"
    out = ["<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
           f"<title>{_e(title)}</title>", f"<style>{STYLE}{PRINT}</style>", "</head>",
           f'<body data-schema="{_e(data["schema"])}" data-currency="{_e(cur)}">', "<main>",
           f"<h1>{_e(title)}</h1>", f'<p class="warn">{_e(data["notice"])}</p>',
           '<div class="scroll"><table class="register"><thead><tr>']
    numeric = ("foreign", "rate", "amount", "charges", "tax", "net")
    out += [f'<th{" class=n" if k in numeric else ""}>'
            f"{_e(t if k != 'amount' else f'Credited {cur}')}</th>" for k, t in COLUMNS]
    out.append("</tr></thead><tbody>")
    for n, item in enumerate(data["remittances"]):
        cells = _cells(item, loc)
        if item["currency"] == cur:
            cells["amount"] = _grouped(item["amount"], loc)
        row = []
        for key, _ in COLUMNS:
            if key in ("charges", "tax", "net"):
                row.append(_num(f"remittances.{n}.{key}", item[key], loc))
            elif key in numeric or key == "date":
                row.append(f'<td class="n">{_e(cells[key])}</td>')
            else:
                row.append(f"<td>{_e(cells[key])}</td>")
        out.append("<tr>" + "".join(row) + "</tr>")
        out.append(f'<tr><td></td><td colspan="{len(COLUMNS) - 1}"><small>chain: '
                   f"{_e(item['chain'])} · {_e(item['match'])} · {_e(item['statement'])}"
                   f"{_e(_tax_note(item, loc))}</small></td></tr>")
    out.append("</tbody></table></div>")
    out.append("<h2>Per month</h2><table><tr><th>Month</th><th class=\"n\">Credits</th>"
               f'<th class="n">Credited {_e(cur)}</th><th class="n">Charges</th>'
               '<th class="n">Tax</th><th class="n">Net</th></tr>')
    for m in data["months"]:
        out.append(f"<tr><td>{_e(m['month'])}</td><td class=\"n\">{m['count']}</td>"
                   + "".join(_num(f"months.{m['month']}.{k}", m[k], loc)
                             for k in ("local", "charges", "tax", "net")) + "</tr>")
    for key, name in (("traced", "Traced"), ("untraced", "No traceable origin"),
                      ("all", "Year")):
        t = data["totals"][key]
        out.append(f'<tr class="{"total" if key == "all" else ""}"><td>{name}</td>'
                   f'<td class="n">{t["count"]}</td>'
                   + "".join(_num(f"totals.{key}.{k}", t[k], loc)
                             for k in ("local", "charges", "tax", "net")) + "</tr>")
    out.append("</table>")
    if data["untraced"]:
        out.append("<h2>Credits with no traceable origin</h2><ul>")
        out += [f"<li>{_e(i['date'])} {_e(i['bank'])} {_e(_grouped(i['amount'], loc))} "
                f"{_e(i['currency'])}"
                f" · {_e(i['description'])} · {_e(i['statement'])}</li>"
                for i in data["untraced"]]
        out.append("</ul>")
    end = data["not_home"]["end"]
    out.append(f"<h2>Not in a local bank on {_e(end['date'])}</h2><ul>")
    out += [f"<li>{_e(i['what'])}: {_e(i['account'])} {_e(_grouped(i['amount'], loc))} "
            f"{_e(i['currency'])} = {_e(_grouped(i['value'], loc))} {_e(cur)}"
            + (f" (rate {_e(_grouped(i['rate'], loc))}, {_e(i['rate_source'])})"
               if i.get("rate") else "")
            + "</li>" for i in end["items"]]
    out.append("</ul><h2>Income and remittances</h2><table>")
    out += [f"<tr><td>{_e(line['label'])}</td>"
            + _num(f"reconciliation.{line['key']}", line["amount"], loc) + "</tr>"
            for line in data["reconciliation"]["lines"]]
    out.append("</table><h2>Rules applied</h2><ul>")
    out += [f"<li><b>{_e(r['id'])}</b>: {_e(r.get('rule') or '')} · source: "
            f"{_e(r['source'])}</li>" for r in data["rules"]]
    out.append("</ul>")
    out += [f'<p class="warn">{_e(w)}</p>' for w in data["warnings"]]
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
