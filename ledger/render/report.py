"""Turn report data into what people read (rich tables) and what scripts read (JSON, CSV).

Nothing here computes a figure: it only lays out what report.py returned.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl
    from rich.console import Console

_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")

WATERFALL = (
    ("gross", "Gross earned", "+"),
    ("platform_fees", "Platform fees", "-"),
    ("payment_fees", "Payment & withdrawal fees", "-"),
    ("fx_cost", "FX cost (spread)", "-"),
    ("bank_deductions", "Bank deductions", "-"),
    ("taxes", "Taxes withheld", "-"),
    ("subcontractor_payouts", "Paid to sub-workers", "-"),
    ("expenses", "Expenses", "-"),
    ("other", "Other adjustments", "±"),
)


def has_payout_costs(items: list[dict]) -> bool:
    """Whether any row had later payout costs charged back (ledger.attribution)."""
    return any(Decimal(item.get("payout_costs") or 0) for item in items)


def _breakdown(title: str, key: str, items: list[dict], cur: str,
               fee_rate: bool = False, locale: str | None = None) -> Any:
    """By platform / by client: gross, fees, net, hours, net per hour and, when any were
    charged back, payout costs and net home; laid out for the width (ledger.render_fit)."""
    from ledger.core.money import number_for_reading, percent_for_reading
    from ledger.render.fit import Col, F, fit_table

    later = has_payout_costs(items)
    columns: list[tuple[Any, Any]] = [
        (F(f"Gross {cur}"), lambda i: _money(i["gross"], locale)),
        (F("Fees"), lambda i: _money(i["fees"], locale))]
    if fee_rate:
        columns.append((F("Fee rate"), lambda i: percent_for_reading(Decimal(i["fee_rate"]),
                                                                     locale)
                        if i.get("fee_rate") else "—"))
    columns.append((F("Net"), lambda i: _money(i["net"], locale)))
    columns.append((F("Hours"), lambda i: number_for_reading(Decimal(i["hours"]), locale)))
    columns.append((F("Net/h"), lambda i: _money(i["net_hourly"], locale)
                    if i.get("net_hourly") else "—"))
    if later:
        columns += [(F("Payout costs"), lambda i: _money(i["payout_costs"], locale)),
                    (F("Net home"), lambda i: _money(i["net_home"], locale)
                     if i.get("net_home") is not None else "—")]
    rows = [[item[key] or "(none)", *(cell(item) for _, cell in columns)] for item in items]
    # a platform is a code (bank:meezan), a client a name that may wrap between words
    first = Col(key.capitalize(), code=key == "platform")
    return fit_table([first, *(col for col, _ in columns)], rows, title=title)


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def long_csv(data: dict, rows: list[list]) -> str:
    """`section,key,field,value` CSV: the period and currency of `data`, then `rows`. The one
    layout of the report's and the payouts' CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "field", "value"])
    writer.writerow(["period", "", "from", data["period"]["from"]])
    writer.writerow(["period", "", "to", data["period"]["to"]])
    writer.writerow(["currency", "", "code", data["currency"]])
    writer.writerows(rows)
    return out.getvalue()


def report_csv(report: dict) -> str:
    """The report's figures as long rows: section,key,field,value."""
    rows = [["totals", "", field, "" if value is None else value]
            for field, value in report["totals"].items()]
    for section, key in (("by_platform", "platform"), ("by_client", "client")):
        rows += long_items(section, report[section], key)
    for rate in report["rates"]:
        pair = f"{rate['date']} {rate['from']}/{rate['to']}"
        rows += [["rates", pair, "rate", rate["rate"]],
                 ["rates", pair, "provider", rate["provider"]]]
    for rule in report.get("rules", []):
        rows += [["rules", rule["id"], field, value] for field, value in rule["figures"].items()]
        rows.append(["rules", rule["id"], "source", safe_cell(rule["source"])])
    from ledger.payouts.value_chain import long_rows

    rows += [[section, safe_cell(key), name, value]
             for section, key, name, value in long_rows(report.get("value_chains") or [])]
    return long_csv(report, rows)


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (=, +, -, @ at the start).
    Plain numbers (`-5.00`) are data, not formulas: they stay as they are."""
    text = "" if value is None else str(value)
    if text[:1] not in ("=", "+", "-", "@", "\t", "\r") or _NUMBER.fullmatch(text):
        return text
    return "'" + text


def records_csv(records: list[dict], columns: Sequence[str] | None = None) -> str:
    """Records (JSON-ready dicts) as CSV, one per line under a header of `columns` (default:
    the first record's keys): the CSV of every command whose JSON is a list of flat records
    (imports, benchmarks, formats, rates, recorded payouts). None is an empty cell, a nested
    value (a dict of counts) its compact JSON; cells made safe for spreadsheets."""
    names = list(columns if columns is not None else (records[0] if records else []))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for record in records:
        writer.writerow([safe_cell(_compact(v) if isinstance(v, (dict, list)) else v)
                         for v in (record.get(k) for k in names)])
    return out.getvalue()


def _compact(value: dict | list) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def long_items(section: str, items: list[dict], key: str | None = None) -> list[list]:
    """`section,key,field,value` rows for a list of items: one per field but the key (or, with
    no key, numbered from 1), for `long_csv`."""
    rows: list[list] = []
    for number, item in enumerate(items, 1):
        name = safe_cell(item[key]) if key else number
        rows += [[section, name, field, safe_cell(value)] for field, value in item.items()
                 if field != key]
    return rows


def _money(value: str | None, locale: str | None, currency: str | None = None) -> str:
    """Grouped for reading as `locale` (ledger.toml) writes it (`497,286.08`, `4,97,286.08`
    in en_IN, `497.286,08` in de_DE); the currency goes in the column header."""
    from ledger.core.money import group_for_reading

    if value is None:
        return "—"
    text = group_for_reading(Decimal(value), locale)
    return f"{text} {currency}" if currency else text


def _pct(fraction: Decimal, locale: str | None, signed: bool = False, digits: int = 1) -> str:
    """A share or a change as `locale` writes a percentage (12.5%, 12,5 % in de_DE)."""
    from ledger.core.money import percent_for_reading

    return percent_for_reading(fraction, locale, digits, signed)


def _num(value: Decimal | str, locale: str | None) -> str:
    """Hours or a ratio to the hundredth, as `locale` writes them (1,234.50; 1.234,50)."""
    from ledger.core.money import number_for_reading

    return number_for_reading(Decimal(value), locale)


def _bar(part: Decimal, whole: Decimal, width: int = 20) -> str:
    if whole <= 0 or part <= 0:
        return ""
    filled = max(1, round(float(min(part / whole, Decimal(1))) * width))
    return "█" * filled


def print_report(report: dict, console: Console) -> None:
    """The monthly page: waterfall from gross to net, hours, platforms, clients, rates used."""
    from ledger.core.money import currency_symbol
    from ledger.render.fit import Col, F, fit_table

    loc = report.get("locale")
    cur = report["currency"]
    totals = report["totals"]
    gross = Decimal(totals["gross"])
    symbol = currency_symbol(cur, loc)
    title = f"{report['period']['label']} · {cur}" + (f" ({symbol})" if symbol else "")
    rows: list[list[str]] = []
    for key, label, sign in WATERFALL:
        value = Decimal(totals[key])
        if key not in ("gross",) and value == 0:
            continue
        share = _pct(value / gross, loc) if gross else ""
        rows.append([f"{sign} {label}" if key != "gross" else label, _money(totals[key], loc),
                     share if key != "gross" else _pct(Decimal(1), loc, digits=0) if gross
                     else "",  # a zero gross is no 100% of itself
                     "" if key == "gross" else f"[red]{_bar(value, gross)}[/]"])
    net = Decimal(totals["net"])
    sections = (len(rows),)
    rows.append(["= Net", f"[bold green]{_money(totals['net'], loc)}[/]",
                 _pct(net / gross, loc) if gross else "", ""])
    if report.get("payouts_owed_unpaid") is not None:  # a liability, not part of net
        rows.append(["(owed to sub-workers, unpaid)",
                     _money(report["payouts_owed_unpaid"], loc), "", ""])
    console.print(fit_table([Col("", style="bold", min_width=12), F(cur), F("of gross"),
                             Col("", min_width=99, drop=1)], rows, title=title, markup=True,
                            sections=sections))
    if report.get("value_chains"):  # sub-workers configured (ledger.value_chain)
        from ledger.render.chain import chains_table

        console.print(chains_table(report["value_chains"], f"Value chain by contract · {cur}",
                                   loc))
    moving = report.get("chains") or {}
    if moving.get("matched"):  # ledger reconcile, summed
        console.print(f"In transit: {_money(moving['in_transit'], loc)} {cur} in "
                      f"{moving['in_transit_count']} transfer(s) not yet received; "
                      f"{moving['matched']} payout chain(s) arrived "
                      f"({_money(moving['arrived'], loc)} {cur}, hops took "
                      f"{_money(moving['hop_costs'], loc)}): `ledger reconcile`")
    elif moving.get("in_transit_count"):  # nothing matched: likely no receiving statement yet
        console.print(f"Withdrawn, no receipt seen yet: {_money(moving['in_transit'], loc)} "
                      f"{cur} in {moving['in_transit_count']} transfer(s). Import the "
                      "receiving wallet or bank statement to follow them (`ledger reconcile`).")
    hours = Decimal(totals["hours"])
    unpaid = Decimal(totals["unpaid_hours"])
    if hours or unpaid:
        line = f"Paid hours {_num(hours, loc)}"
        if totals["net_hourly"]:
            line += f" · net per paid hour [bold]{_money(totals['net_hourly'], loc, cur)}[/]"
        if unpaid:
            line += f" · unpaid {_num(unpaid, loc)} h · net per hour worked " \
                    f"{_money(totals['net_hourly_all'], loc, cur)}"
        console.print(line)
    else:
        console.print("[dim]No hours recorded this period: hourly invoices carry them; add "
                      "others with `ledger hours import` or \\[\\[hours]] in ledger.toml.[/]")
    unhoured = report.get("gross_without_hours")
    if hours and unhoured and Decimal(unhoured) > 0:
        console.print(f"[dim]  {_money(unhoured, loc)} {cur} of gross came from work with no hours "
                      "recorded (fixed-price, direct clients), so net per hour is overstated; "
                      "`ledger hours import` a timesheet to fix that.[/]")
    if report["by_platform"]:
        console.print(_breakdown("By platform", "platform", report["by_platform"], cur,
                                 fee_rate=True, locale=loc))
    if report["by_client"]:
        clients = report["by_client"]
        shown = clients[:10] + [c for c in clients[10:] if c["client"] is None]
        console.print(_breakdown("By client", "client", shown, cur, locale=loc))
    if has_payout_costs(report["by_platform"]):
        att = report["payout_costs"]
        none = any(i["platform"] is None for i in report["by_platform"]) or any(
            i["client"] is None for i in report["by_client"])
        console.print(f"[dim]Payout costs: what converting each one's money and getting it "
                      "home cost (currency conversions, withdrawal and wallet fees, FX spread, "
                      "bank deductions, tax on arrival), charged first in, first out to whose "
                      "money it was. The costs counted above, not extra ones: "
                      f"{_money(att['attributed'], loc)} {cur} charged back, "
                      f"{_money(att['unattributed'], loc)} {cur} untraced (left where booked); "
                      "the rows' Net home add up to Net"
                      + (" ((none): what is no platform's or no client's money, such as "
                         "Connects, fees of withdrawals not seen arriving, expenses)"
                         if none else "") + ". `ledger reconcile` shows each journey.[/]")
    if len(report.get("months") or []) > 1:
        print_months(report, console)
    if report.get("benchmarks"):
        print_benchmarks(report, console)
    if report.get("rules"):
        print_rules_used(report, console)
    if report["rates"]:
        console.print("[dim]Rates used (every date and source in --format json):[/]")
        for text, dates in _distinct_rates(report["rates"]).items():
            span = dates[0] if len(dates) == 1 else f"{dates[0]}..{dates[-1]}"
            console.print(f"[dim]  {span}: {lit(text)}[/]", markup=True)
    for warning in report["warnings"]:
        console.print(f"[yellow]warning:[/] {lit(warning)}")


def print_months(report: dict, console: Console) -> None:
    """Month by month: gross, costs, net with a bar against the benchmark, hours, net hourly,
    and the change from the month before."""
    from ledger.render.fit import Col, F, fit_table

    cur, loc = report["currency"], report.get("locale")
    months = report["months"]
    benchmark = months[0].get("benchmark")
    most = max((Decimal(m["benchmark_ratio"]) for m in months if m.get("benchmark_ratio")),
               default=Decimal(1))
    rows = []
    for m in months:
        costs = Decimal(m["gross"]) - Decimal(m["net"])
        change = _pct(Decimal(m["net_change"]), loc, signed=True) if m.get("net_change") else ""
        ratio = Decimal(m["benchmark_ratio"]) if m.get("benchmark_ratio") else None
        bar = _ratio_bar(ratio, max(most, Decimal(1))) if ratio is not None else ""
        rows.append([m["month"], _money(m["gross"], loc), _money(f"{costs}", loc),
                     _money(m["net"], loc), change, _num(m["hours"], loc),
                     _money(m["net_hourly"], loc),
                     f"{_num(ratio, loc)}x" if ratio is not None else "—", bar])
    columns = [F("Month", justify="left"), F(f"Gross {cur}"), F("Costs"), F("Net"),
               F("vs last"), F("Hours"), F("Net/h"), F("Bench."), Col("", min_width=99, drop=1)]
    table = fit_table(columns, rows, markup=True)
    if benchmark:  # the bar is said only where the width leaves room for it
        against = benchmark.replace("_", " ")
        table.title = (f"Month by month (Bench. and bar: net against {against}, | marks 1x)"
                       if len(columns) - 1 in table.layout(console.width).shown else
                       f"Month by month (Bench.: net against {against})")
    else:
        table.title = "Month by month"
    console.print(table)


def _ratio_bar(ratio: Decimal, most: Decimal, width: int = 16) -> str:
    """A bar scaled so the largest ratio fills `width`, with `|` where 1x (the benchmark) is."""
    cells = max(0, round(float(ratio / most) * width))
    one = min(width - 1, round(float(1 / most) * width))
    text = "".join("|" if i == one and i >= cells else ("█" if i < cells else " ")
                   for i in range(width)).rstrip()
    return f"[green]{text}[/]" if ratio >= 1 else f"[red]{text}[/]"


def print_benchmarks(report: dict, console: Console) -> None:
    """Net per month against each local benchmark, as a ratio with a bar (1.0 = equal)."""
    from ledger.render.fit import Col, F, fit_table

    cur, loc = report["currency"], report.get("locale")
    rows = []
    for item in report["benchmarks"]:
        if item["ratio"] is None:
            continue
        ratio = Decimal(item["ratio"])
        # a cell per quarter of the benchmark, up to twice it: the bar shows the distance to
        # 1x, where it matters; a ratio beyond 2x (its figure says how far) ends in "…"
        bar = "█" * min(int(ratio * 4), 8) + ("…" if ratio * 4 > 8 else "")
        year = str(item["year"] or "yours") + ("*" if item.get("picked") else "")
        rows.append([lit(item["name"].replace("_", " ")), year, _money(item["monthly"], loc),
                     f"{_num(ratio, loc)}x", f"[green]{bar}[/]" if ratio >= 1 else f"[red]{bar}[/]",
                     lit(_publisher(item["source"]))])
        if item.get("hourly"):
            rows.append(["  per hour", "", _money(item["hourly"], loc),
                         f"{_num(item['hourly_ratio'], loc)}x", "", "net per paid hour"])
    columns = [Col("Benchmark", min_width=10), F("Year", justify="left"),
               F(f"Per month {cur}"), F("Ratio"), Col("", min_width=99, drop=2),
               Col("Source", min_width=12, drop=1)]
    console.print(fit_table(columns, rows, title="Net per month against local benchmarks",
                            markup=True))
    picked = any(i.get("picked") for i in report["benchmarks"])
    console.print(("[dim]* the nearest year with a figure; " if picked else "[dim]")
                  + "each source in full, with notes: `ledger benchmarks` or --format json[/]")


def _publisher(source: str) -> str:
    """A source's publisher, the part of its title before ": " (the whole title when it has
    none): the full titles wrapped a report's benchmark table to ~50 lines at 80 columns."""
    return source.split(": ", 1)[0]


def print_rules_used(report: dict, console: Console) -> None:
    """Figures the fee rules produced (derived rows), each with its rule id and source."""
    names = {key: label for key, label, _ in WATERFALL}
    console.print("[dim]Figures derived by rules (`ledger fees --rules` lists the fee rules, "
                  "`ledger rules list` yours):[/]")
    for item in report["rules"]:
        figures = ", ".join(f"{names.get(k, k).lower()} {_money(v, report.get('locale'))}"
                            for k, v in item["figures"].items())
        console.print(f"[dim]  {item['id']} ({item['rule']}, {item['confidence']}): "
                      f"{figures} {report['currency']} in {item['rows']} rows; "
                      f"source {item['source']}[/]", markup=True)


def _distinct_rates(rates: list[dict]) -> dict[str, list[str]]:
    """Rates grouped by value and source, with the row dates each served."""
    out: dict[str, list[str]] = {}
    for r in rates:
        text = f"1 {r['from']} = {r['rate']} {r['to']} ({r['provider']}: {r['detail']})"
        out.setdefault(text, []).append(r["date"])
    return out


def rows_json(rows: pl.DataFrame) -> list[dict]:
    """Canonical rows as JSON objects: money as decimal strings, dates ISO."""
    out = []
    for row in rows.iter_rows(named=True):
        item = dict(row)
        item["date"] = row["date"].isoformat()
        item["amount"] = f"{row['amount']:f}"
        out.append(item)
    return out


def rows_csv(rows: pl.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows.columns)
    for item in rows_json(rows):
        writer.writerow([safe_cell(v) if isinstance(v, str) and k != "amount" else
                         ("" if v is None else v) for k, v in item.items()])
    return out.getvalue()


_MARKUP_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
"""What rich.markup.escape escapes: a tag-like `[...]` and the backslashes before it."""


def lit(value: object) -> str:
    """User text (a path, a name, a description) inside Rich markup, shown literally:
    `[ab]` stays `[ab]` rather than being read as a style. rich.markup.escape's very rules
    (tests/test_fast_commands.py compares them), without importing rich.markup and the text
    machinery behind it (~7 ms of a report whose warning names `[[rules]]`)."""
    text = str(value)
    if "[" in text:
        text = _MARKUP_TAG.sub(lambda m: f"{m[1]}{m[1]}\\{m[2]}", text)
    if text.endswith("\\") and not text.endswith("\\\\"):
        return text + "\\"
    return text


ROW_ID = 8
"""How much of a row's id the tables show: the prefix `ledger reconcile` names rows by and
`ledger reconcile link` takes."""


def print_rows(rows: pl.DataFrame, console: Console, limit: int | None = None,
               locale: str | None = None) -> None:
    """The rows as a table, each with its short id, amounts rounded to their currency and
    grouped as `locale`. Narrow, the file goes first, then the user's rule, the category,
    the counterparty and the line; the description last (`--format json` has them all)."""
    from ledger.core.money import format_money
    from ledger.counting.rule_tools import origin_rule
    from ledger.render.fit import Code, Col, F, fit_table

    shown = rows if limit is None else rows.head(limit)
    ruled = any(origin_rule(o) for o in shown["origin"].unique().to_list())
    files = "file" in shown.columns
    columns = [F("Date", justify="left"), F("Id", justify="left"), Code("Source"),
               Code("Kind"), Code("Category", drop=4), F("Amount"),
               Col("Counterparty", drop=3), Col("Description", min_width=10, drop=1),
               *((Code("File", drop=6),) if files else ()),
               Code("Line", justify="right", drop=2),
               *((Code("Rule", drop=5),) if ruled else ())]
    cells = [[str(row["date"]), row["id"][:ROW_ID], row["source"], str(row["kind"]),
              row["category"] or "",
              _money(format_money(row["amount"], row["currency"]), locale, row["currency"]),
              row["counterparty"] or "", row["description"] or "",
              *((row["file"] or "",) if files else ()), str(row["line"]),
              *((origin_rule(row["origin"]) or "",) if ruled else ())]
             for row in shown.iter_rows(named=True)]
    console.print(fit_table(columns, cells))
    if limit is not None and rows.height > limit:
        console.print(f"[dim]… {rows.height - limit} more rows (use --limit 0 for all)[/]")


# --- Charts (terminal): drawn from the same strings as the tables. ---

def waterfall_steps(report: dict) -> list[dict]:
    """Gross, each non-zero cost, then net, with where each bar starts and ends.

    A cost moves the running total down (a negative cost, e.g. a refunded fee, moves it up);
    `value` is the report's exact string, `share` its part of gross ("" when gross <= 0) and
    `kind` one of gross/cost/gain/net for colouring. Shared by the terminal and HTML charts.
    """
    totals, loc = report["totals"], report.get("locale")
    gross = Decimal(totals["gross"])
    steps: list[dict] = []
    running = Decimal(0)
    for key, label, sign in WATERFALL:
        if totals.get(key) is None:
            continue
        value = Decimal(totals[key])
        if key != "gross" and value == 0:
            continue
        delta = value if key in ("gross", "other") else -value
        kind = "gross" if key == "gross" else ("cost" if delta < 0 else "gain")
        steps.append({"key": key, "label": label, "sign": "" if key == "gross" else sign,
                      "value": totals[key], "start": running, "end": running + delta,
                      "share": _share(value, gross, loc), "kind": kind})
        running += delta
    net = Decimal(totals["net"])
    steps.append({"key": "net", "label": "Net", "sign": "=", "value": totals["net"],
                  "start": Decimal(0), "end": net, "share": _share(net, gross, loc), "kind": "net"})
    return steps


def _share(part: Decimal, whole: Decimal, locale: str | None) -> str:
    return _pct(part / whole, locale) if whole > 0 else ""


def _cells(start: Decimal, end: Decimal, lo: Decimal, hi: Decimal, width: int) -> tuple[int, int]:
    """The character cells [a, b) a bar from start to end covers on a lo..hi axis (>= 1 cell)."""
    span = hi - lo or Decimal(1)
    a = int(((min(start, end) - lo) / span * width).to_integral_value())
    b = int(((max(start, end) - lo) / span * width).to_integral_value())
    if b == a and start != end:
        a, b = (a, a + 1) if a < width else (a - 1, a)
    return a, b


def _bar_width(console: Console, most: int, *columns: list[str]) -> int:
    """Cells left for the bar beside the other columns (one space of padding each side)."""
    used = sum(max((len(text) for text in col), default=0) + 2 for col in columns) + 2
    return max(4, min(most, console.width - used))


WATERFALL_STYLES = {"gross": "blue", "cost": "red", "gain": "green", "net": "bold green"}


def print_waterfall_chart(report: dict, console: Console) -> None:
    """Gross to net as horizontal bars: each cost drawn where it falls, to scale of gross."""
    from rich.table import Table
    from rich.text import Text

    steps = waterfall_steps(report)
    points = [p for s in steps for p in (s["start"], s["end"])]
    lo, hi = min(Decimal(0), *points), max(Decimal(0), *points)
    labels = [f"{s['sign']} {s['label']}".strip() for s in steps]
    loc = report.get("locale")
    width = _bar_width(console, 40, labels, [_money(s["value"], loc) for s in steps],
                       [s["share"] for s in steps])
    table = Table(title=f"From gross to net · {report['currency']}", title_justify="left",
                  box=None, show_header=False, padding=(0, 1))
    table.add_column("", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    for step, label in zip(steps, labels, strict=True):
        a, b = _cells(step["start"], step["end"], lo, hi, width)
        bar = Text(" " * a) + Text("█" * (b - a), style=WATERFALL_STYLES[step["kind"]])
        bar.append(" " * (width - b))
        table.add_row(Text(label, style="bold" if step["kind"] == "net" else ""), bar,
                      _money(step["value"], loc), step["share"])
    console.print(table)


def print_monthly_chart(months: list[dict], console: Console, *,
                        benchmark: str = "benchmark", locale: str | None = None) -> None:
    """Net per month as bars with the benchmark marked ┃ (green at or above it, else yellow).

    `months`: [{"month": "2024-06", "net": "123.45", "benchmark": "37000.00" or None}].
    """
    from rich.table import Table
    from rich.text import Text

    if not months:
        console.print("[dim]No months to chart.[/]")
        return
    nets = [Decimal(m["net"]) for m in months]
    marks = [None if m.get("benchmark") is None else Decimal(m["benchmark"]) for m in months]
    top = max([Decimal(0), *nets, *(m for m in marks if m is not None)]) or Decimal(1)
    width = _bar_width(console, 50, [m["month"] for m in months],
                       [_money(m["net"], locale) for m in months], ["0000.00x"])
    table = Table(title="Net per month", title_justify="left", box=None, show_header=False,
                  padding=(0, 1))
    table.add_column("", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    for item, net, mark in zip(months, nets, marks, strict=True):
        filled = _cells(Decimal(0), max(net, Decimal(0)), Decimal(0), top, width)[1]
        style = "green" if mark is None or net >= mark else "yellow"
        at = None if mark is None else min(width - 1, _cells(Decimal(0), mark, Decimal(0), top,
                                                             width)[1] - 1)
        bar = Text()
        for cell in range(width):
            if cell == at:
                bar.append("┃", style="bold magenta")
            elif cell < filled:
                bar.append("█", style=style)
            elif cell == 0 and net < 0:
                bar.append("◂", style="red")
            else:
                bar.append(" ")
        ratio = f"{_num(net / mark, locale)}x" if mark else ""
        table.add_row(item["month"], bar, _money(item["net"], locale), ratio)
    console.print(table)
    if any(m is not None for m in marks):
        console.print(f"[dim]█ net   [bold magenta]┃[/] {benchmark} per month   "
                      "ratio = net / benchmark[/]")
