"""A worker's statement (ledger.statement's document) as text, CSV or a self-contained HTML
page that prints on A4: each line's formula written out so the worker can recompute it, money
grouped for reading as the statement's locale writes digits."""

from __future__ import annotations

from decimal import Decimal

FORMATS = {".html": "html", ".htm": "html", ".csv": "csv", ".json": "json", ".txt": "text",
           ".text": "text"}
"""Statement format by the suffix of `-o FILE`."""


# --- lines ------------------------------------------------------------------------------------


def _grouper(data: dict, grouped: bool):
    from ledger.core.money import group_for_reading

    if not grouped:
        return lambda text: text
    return lambda text: group_for_reading(Decimal(text), data.get("locale"))


def _share(percent: str, locale: str | None) -> str:
    """A share as `locale` writes a percentage (`10%`, `12,5 %` in de_DE), every digit of
    the rule kept; without a locale as the rule says it (`12.5%`)."""
    if not locale:
        return f"{percent}%"
    from ledger.core.money import percent_for_reading

    value = Decimal(percent)
    places = max(0, -int(value.as_tuple().exponent))
    return percent_for_reading(value / 100, locale, places)


def job_formula(job: dict, cur: str, num=lambda text: text, locale: str | None = None
                ) -> str:
    """How a job's amount is worked out, e.g. `10% of gross 114.67 USD = 11.467 USD × 278.45
    (rate of 2024-06-03)`; `num` groups the money figures for reading, `locale` writes the
    share."""
    ccy = job["currency"]
    if job["quantity"] is not None:
        quantity = job["quantity"] if ":" in job["quantity"] else num(job["quantity"])
        what = f"{quantity} {job['unit']} × {num(job['price'])} {ccy}"
        plain = job["quantity"] == "1"
    else:
        share, _, rest = job["rule"].partition("% ")
        rule = f"{_share(share, locale)} {rest}" if rest else job["rule"]
        what = f"{rule} {num(job['base'])} {ccy}"
        plain = False
    if job["rate"] is not None:  # the rate's own date: the nearest to the day valued at
        return f"{what} = {num(job['amount'])} {ccy} × {num(job['rate'])} (rate of " \
            f"{job.get('rate_from') or job['rate_date']})"
    if plain and job["amount"] == job["owed"]:
        return what
    return f"{what} = {num(job['amount'])} {ccy}"


def payment_formula(pay: dict, cur: str, num=lambda text: text) -> str:
    if pay["rate"] is None:
        return ""
    dated = f" (rate of {pay['rate_from']})" if pay.get("rate_from") else ""
    return f"{num(pay['amount'])} {pay['currency']} × {num(pay['rate'])}{dated}"


def header(data: dict) -> str:
    period = data["period"]
    span = f"{period['from']} to {period['to']}"
    label = period["label"] if period["label"] == span else f"{period['label']} ({span})"
    return f"{label}, amounts in {data['currency']}"


def balance_words(data: dict, num=lambda text: text) -> str:
    """The closing balance in words: who owes whom."""
    closing = Decimal(data["closing"])
    cur = data["currency"]
    if closing > 0:
        return f"You are owed {num(data['closing'])} {cur}"
    if closing < 0:
        return f"Paid ahead (an advance): {num(data['closing'].lstrip('-'))} {cur}"
    return f"Settled: 0 {cur} owed either way"


def balance_sum(data: dict, num=lambda text: text) -> str:
    cur = data["currency"]
    return (f"Brought forward {num(data['opening'])} + owed {num(data['owed'])} - paid "
            f"{num(data['paid'])} = {num(data['closing'])} {cur}")


# --- formats ----------------------------------------------------------------------------------


WIDTH = 80
"""The text statement's width: it reads on an 80-column terminal and in any mail client."""


def _wrapped(text: str, indent: int, more: int) -> list[str]:
    """`text` wrapped to WIDTH at spaces only (a figure is never cut), indented."""
    import textwrap

    return textwrap.wrap(text, WIDTH, initial_indent=" " * indent,
                         subsequent_indent=" " * more, break_long_words=False,
                         break_on_hyphens=False) or [""]


def _item(left: str, right: str) -> str:
    """A job's or payment's first line: what and when on the left, the amount at the right
    margin (two spaces between them where the left is long)."""
    return left + " " * max(2, WIDTH - 2 - len(left) - len(right)) + right


def statement_text(data: dict) -> str:
    """The statement as plain text within WIDTH columns: per job a line with its date,
    number and what is owed, then how that is worked out (wrapped, indented); per payment
    its date, how and the amount, a conversion below it; notes wrapped."""
    cur = data["currency"]
    num = _grouper(data, True)
    lines = [f"Statement for {data['worker']}", *_wrapped(header(data), 0, 2), "",
             f"Brought forward: {num(data['opening'])} {cur}", "", "Work"]
    if not data["jobs"]:
        lines.append("  (none this period)")
    for job in data["jobs"]:
        formula = job_formula(job, cur, num, data.get("locale"))
        lines.append(_item(f"  {job['date']}  {job['job']}", f"owed {num(job['owed'])} {cur}"))
        lines += _wrapped(formula, 6, 8)
    lines += [f"  Total owed: {num(data['owed'])} {cur}", "", "Payments"]
    if not data["payments"]:
        lines.append("  (none this period)")
    for pay in data["payments"]:
        formula = payment_formula(pay, cur, num)
        lines.append(_item(f"  {pay['date']}  {pay['how']}", f"{num(pay['paid'])} {cur}"))
        if formula:
            lines += _wrapped(f"{formula} = {num(pay['paid'])} {cur}", 6, 8)
    lines += [f"  Total paid: {num(data['paid'])} {cur}", "",
              *_wrapped(balance_sum(data, num), 0, 2), balance_words(data, num)]
    if data["notes"]:
        lines.append("")
        for note in data["notes"]:
            lines += _wrapped(note, 0, 0)
    return "\n".join(lines) + "\n"


def statement_csv(data: dict) -> str:
    import csv
    import io

    from ledger.render.report import safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    cur = data["currency"]
    writer.writerow(["section", "date", "item", "detail", "amount", "currency"])
    writer.writerow(["statement", data["period"]["to"], safe_cell(data["worker"]),
                     safe_cell(data["period"]["label"]), "", cur])
    writer.writerow(["opening", data["period"]["from"], "brought forward", "", data["opening"],
                     cur])
    for job in data["jobs"]:
        writer.writerow(["owed", job["date"], safe_cell(job["job"]),
                         safe_cell(job_formula(job, cur)), job["owed"], cur])
    for pay in data["payments"]:
        writer.writerow(["paid", pay["date"], "payment",
                         safe_cell(" ".join(filter(None, (pay["how"],
                                                          payment_formula(pay, cur))))),
                         pay["paid"], cur])
    writer.writerow(["closing", data["period"]["to"], "balance",
                     safe_cell(balance_words(data)), data["closing"], cur])
    return out.getvalue()


CSS = """
@page { size: A4; margin: 16mm 14mm; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.4 system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: #111;
       max-width: 182mm; margin: 1.5em auto; padding: 0 .5em; }
h1 { font-size: 16pt; margin: 0 0 .2em; } h2 { font-size: 12pt; margin: 1.2em 0 .3em; }
p { margin: .3em 0; }
table { border-collapse: collapse; width: 100%; table-layout: auto; }
th, td { border-bottom: 1px solid #ccc; padding: .25em .4em; text-align: left;
         vertical-align: top; }
th { border-bottom: 1.5px solid #333; font-weight: 600; }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.f { overflow-wrap: break-word; font-variant-numeric: tabular-nums; }
td.d { white-space: nowrap; }
tfoot td { border-bottom: none; font-weight: 600; }
.balance { margin-top: 1em; padding: .5em .7em; border: 1.5px solid #333; }
.balance b { font-size: 12pt; }
.note { color: #444; font-size: 9pt; }
thead { display: table-header-group; } tr { break-inside: avoid; }
@media print { body { margin: 0; max-width: none; padding: 0; } }
"""


def statement_html(data: dict) -> str:
    """A self-contained page that prints on A4 (no PDF library needed: print it from a
    browser); figures are right-aligned in tabular digits and never wrap."""
    from html import escape

    cur = data["currency"]
    num = _grouper(data, True)

    def table(head: list[tuple[str, str]], rows: list[list[tuple[str, str]]], total: str
              ) -> str:
        cells = "".join(f'<th class="{c}">{escape(h)}</th>' for h, c in head)
        body = "".join("<tr>" + "".join(f'<td class="{c}">{escape(v)}</td>' for v, c in row)
                       + "</tr>" for row in rows) or \
            f'<tr><td colspan="{len(head)}">none this period</td></tr>'
        foot = f'<tfoot><tr><td colspan="{len(head) - 1}">Total</td>' \
               f'<td class="n">{escape(total)}</td></tr></tfoot>'
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody>{foot}</table>"

    loc = data.get("locale")
    jobs = [[(j["date"], "d"), (j["job"], "d"), (job_formula(j, cur, num, loc), "f"),
             (num(j["owed"]), "n")] for j in data["jobs"]]
    pays = [[(p["date"], "d"), (p["how"], ""), (payment_formula(p, cur, num), "f"),
             (num(p["paid"]), "n")] for p in data["payments"]]
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in data["notes"])
    title = f"Statement for {data['worker']}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}, {escape(data['period']['label'])}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(header(data))}</p>"
        f"<p>Brought forward: <b>{escape(num(data['opening']))} {escape(cur)}</b></p>"
        "<h2>Work</h2>"
        + table([("Date", ""), ("Job", ""), ("How it is worked out", ""),
                 (f"Owed {cur}", "n")], jobs, num(data["owed"]))
        + "<h2>Payments</h2>"
        + table([("Date", ""), ("How", ""), ("Converted", ""), (f"Paid {cur}", "n")], pays,
                num(data["paid"]))
        + f'<div class="balance"><p>{escape(balance_sum(data, num))}</p>'
        f"<p><b>{escape(balance_words(data, num))}</b></p></div>{notes}</body></html>\n")


def render(data: dict, fmt: str) -> str:
    if fmt == "json":  # the statement as built (schema ledger.statement/2)
        from ledger.render.report import to_json

        return to_json(data)
    if fmt == "html":
        return statement_html(data)
    if fmt == "csv":
        return statement_csv(data)
    return statement_text(data)
