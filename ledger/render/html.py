"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no script and
no network (a Content-Security-Policy forbids every load), readable on a phone.

Rendered only from the `ledger.report/1` dict that `report.build` returns, so every figure is
the JSON's. Each one carries its place in the JSON and its exact value as data attributes
(`data-field="totals.gross" data-value="1678.00"`), which the tests and scripts can read; the
text shows the same value grouped for reading as `locale` in ledger.toml writes it (`1,678.00`,
`1.678,00` in de_DE), percentages and ratios too. All text is escaped.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

STYLE = """
:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;
--card:#f6f8fa;--gross:#2563eb;--cost:#d1242f;--gain:#1a7f37;--net:#116329;--bench:#8c959f;
--you:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;
--bg:#0d1117;--card:#151b23;--gross:#4493f8;--cost:#f85149;--gain:#3fb950;--net:#56d364;
--bench:#6e7681;--you:#3fb950}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"Noto Sans",sans-serif;-webkit-text-size-adjust:100%}
main{max-width:46rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.2rem 0}
h2{font-size:1.1rem;margin:1.8rem 0 .5rem;border-bottom:1px solid var(--line);
padding-bottom:.2rem}
p,figcaption,.muted{color:var(--muted)}
.headline{background:var(--card);border-radius:.6rem;padding:.8rem 1rem;margin:1rem 0}
.headline .big{font-size:2rem;font-weight:700;color:var(--net);
font-variant-numeric:tabular-nums}
.headline .big.negative{color:var(--cost)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{text-align:left;font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;white-space:nowrap}
tr.zero td{color:var(--muted)}
table.months td:first-child{white-space:nowrap}
table.benchmarks tr.head td{border-bottom:0;padding-bottom:0}
table.benchmarks tr.about td{padding-top:0}
small{font-size:.8rem;line-height:1.3}
tr.total td{font-weight:700;border-top:2px solid var(--fg)}
figure{margin:.5rem 0 1rem}
svg.chart{display:block;width:100%;max-width:30rem;height:auto}
svg text{fill:var(--fg);font:13px system-ui,sans-serif}
svg text.value{font-variant-numeric:tabular-nums}
svg .gross{fill:var(--gross)} svg .cost{fill:var(--cost)} svg .gain{fill:var(--gain)}
svg .net{fill:var(--net)} svg .bench{fill:var(--bench)} svg .you{fill:var(--you)}
svg .link{stroke:var(--muted);stroke-dasharray:2 2}
svg .mark{stroke:var(--fg);stroke-width:1.5;stroke-dasharray:4 3}
svg .axis{stroke:var(--muted)}
details{margin:.5rem 0}
summary{cursor:pointer;color:var(--muted)}
a{color:var(--gross)}
.warn{border-left:4px solid var(--cost);padding:.3rem .7rem;background:var(--card)}
footer{margin-top:2rem;font-size:.85rem;color:var(--muted)}
@media (max-width:30rem){main{padding:.7rem}th,td{padding:.3rem .35rem}
.headline .big{font-size:1.7rem}table{font-size:.92rem}}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; " \
      "form-action 'none'"
"""Nothing may load or run: the page is only what it holds."""

HOURS = (("hours", "Paid hours"), ("unpaid_hours", "Unpaid hours (bidding, admin, learning)"),
         ("net_hourly", "Net per paid hour"), ("net_hourly_all", "Net per hour worked"))


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _grouped(value: str | None, loc: str | None) -> str:
    """`1678.00` -> `1,678.00` (`1.678,00` in de_DE, as `locale` in ledger.toml says);
    None -> an em dash. Every digit of the report's string is kept."""
    from ledger.core.money import group_for_reading

    if value is None:
        return "—"
    return group_for_reading(Decimal(value), loc)


def _num(field: str, value: str | None, loc: str | None, tag: str = "td", extra: str = ""
         ) -> str:
    """A figure with its JSON path and exact value as data attributes."""
    shown = _grouped(value, loc)
    return (f'<{tag} class="n" data-field="{_e(field)}" data-value="{_e(value)}"{extra}>'
            f"{_e(shown)}</{tag}>")


def _pct(fraction: str | Decimal | None, loc: str | None, signed: bool = False) -> str:
    """A share or change as the locale writes a percentage: 12.5%, 12,5 % in de_DE."""
    from ledger.core.money import percent_for_reading

    if fraction is None or fraction == "":
        return "—"
    return percent_for_reading(Decimal(fraction), loc, signed=signed)


def _ratio(value: str | Decimal, loc: str | None) -> str:
    """`2.50×` (`2,50×` in de_DE)."""
    from ledger.core.money import number_for_reading

    return f"{number_for_reading(Decimal(value), loc)}×"


def _link(url: str | None, text: str) -> str:
    if url and url.startswith(("https://", "http://")):
        return f'<a href="{_e(url)}" rel="noreferrer">{_e(text)}</a>'
    return _e(text)


def render(report: dict) -> str:
    """The whole page for one `ledger.report/1` dict."""
    from ledger.render.report import WATERFALL

    cur = report["currency"]
    period = report["period"]
    title = f"Earnings {period.get('label') or period['from'] + ' to ' + period['to']} · {cur}"
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="generator" content="freelance-ledger">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        f'<body data-schema="{_e(report.get("schema"))}" data-currency="{_e(cur)}" '
        f'data-from="{_e(period["from"])}" data-to="{_e(period["to"])}">',
        "<main>",
        f"<h1>{_e(title)}</h1>",
        f'<p>{_e(period["from"])} to {_e(period["to"])}, every figure in {_e(cur)} '
        "at each day’s rate.</p>",
        _headline(report),
        '<h2 id="net">From gross to net</h2>',
        _waterfall_svg(report),
        _totals_table(report, WATERFALL),
        _hours(report),
    ]
    if report.get("months"):
        parts += ['<h2 id="months">Month by month</h2>', _months_svg(report),
                  _months_table(report)]
    if report.get("benchmarks"):
        parts += ['<h2 id="benchmarks">Net per month against local benchmarks</h2>',
                  "" if report.get("months") else _benchmark_svg(report),
                  _benchmark_table(report)]
    parts += [_platforms(report), _clients(report), _rules(report), _rates(report),
              _sources(report), _warnings(report), _footer(report), "</main>", "</body>",
              "</html>"]
    return "\n".join(p for p in parts if p) + "\n"


def _headline(report: dict) -> str:
    totals, cur, loc = report["totals"], report["currency"], report.get("locale")
    net, gross = Decimal(totals["net"]), Decimal(totals["gross"])
    kept = (f"You kept {_e(_pct(net / gross, loc))} of "
            f"{_e(_grouped(totals['gross'], loc))} gross.") if gross > 0 else ""
    hourly = ""
    if totals.get("net_hourly"):
        hourly = (f'<div>Net per paid hour <strong data-field="totals.net_hourly" '
                  f'data-value="{_e(totals["net_hourly"])}">'
                  f'{_e(_grouped(totals["net_hourly"], loc))}</strong> {_e(cur)}</div>')
    negative = " negative" if net < 0 else ""
    return (f'<section class="headline"><div>Net</div>'
            f'<div class="big{negative}" data-field="totals.net" '
            f'data-value="{_e(totals["net"])}">{_e(_grouped(totals["net"], loc))} '
            f"{_e(cur)}</div>"
            f"<div>{kept}</div>{hourly}</section>")


def _waterfall_svg(report: dict) -> str:
    """Gross, then each cost taking its slice, then net: one row per step, a bar from where
    the running total was to where it went, dashed links between steps."""
    from ledger.render.report import waterfall_steps

    steps = waterfall_steps(report)
    loc = report.get("locale")
    width, pad, row = 360, 4, 40
    points = [p for s in steps for p in (s["start"], s["end"])]
    lo, hi = min(Decimal(0), *points), max(Decimal(0), *points)
    span = (hi - lo) or Decimal(1)

    def x(value: Decimal) -> float:
        return round(pad + float((value - lo) / span) * (width - 2 * pad), 1)

    height = row * len(steps) + 8
    out = [f'<figure><svg class="chart waterfall" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="From gross to net, {_e(report["currency"])}">']
    if lo < 0:  # a loss: mark where zero is
        zero = x(Decimal(0))
        out.append(f'<line class="axis" x1="{zero}" y1="18" x2="{zero}" y2="{height}"/>')
    for i, step in enumerate(steps):
        top = i * row
        a, b = sorted((x(step["start"]), x(step["end"])))
        w = max(b - a, 1.0)
        label = f"{step['sign']} {step['label']}".strip()
        share = f" · {step['share']}" if step["share"] else ""
        field = f"totals.{step['key']}"
        out.append(f'<text x="{pad}" y="{top + 14}">{_e(label)}</text>')
        out.append(f'<text class="value" x="{width - pad}" y="{top + 14}" text-anchor="end">'
                   f"{_e(_grouped(step['value'], loc))}{_e(share)}</text>")
        out.append(f'<rect class="{_e(step["kind"])}" x="{a}" y="{top + 20}" width="{w}" '
                   f'height="14" rx="2" data-field="{_e(field)}" '
                   f'data-value="{_e(step["value"])}"><title>{_e(label)}: '
                   f"{_e(_grouped(step['value'], loc))} {_e(report['currency'])}{_e(share)}"
                   "</title></rect>")
        if i + 1 < len(steps) and steps[i + 1]["key"] != "net":
            at = x(step["end"])
            out.append(f'<line class="link" x1="{at}" y1="{top + 34}" x2="{at}" '
                       f'y2="{top + row + 20}"/>')
    out.append("</svg><figcaption>Each bar starts where the previous one ended; red bars "
               "are what platforms, payment providers, FX spreads, banks and taxes took.")
    out.append("</figcaption></figure>")
    return "\n".join(out)


def _totals_table(report: dict, waterfall: tuple) -> str:
    totals, cur, loc = report["totals"], report["currency"], report.get("locale")
    gross = Decimal(totals["gross"])
    rows = []
    shown = {"net", *(k for k, _ in HOURS)}
    for key, label, sign in waterfall:
        if key not in totals:
            continue
        shown.add(key)
        value = totals[key]
        share = _pct(Decimal(value) / gross, loc) if gross > 0 and value is not None else ""
        zero = ' class="zero"' if value is not None and Decimal(value) == 0 else ""
        name = label if key == "gross" else f"{sign} {label}"
        rows.append(f"<tr{zero}><td>{_e(name)}</td>{_num(f'totals.{key}', value, loc)}"
                    f'<td class="n">{_e(share)}</td></tr>')
    share = _pct(Decimal(totals["net"]) / gross, loc) if gross > 0 else ""
    rows.append(f'<tr class="total"><td>= Net</td>{_num("totals.net", totals["net"], loc)}'
                f'<td class="n">{_e(share)}</td></tr>')
    for key, value in totals.items():  # any figure the table does not name yet
        if key not in shown:
            rows.append(f"<tr><td>{_e(key.replace('_', ' '))}</td>"
                        f'{_num(f"totals.{key}", value, loc)}<td class="n"></td></tr>')
    if report.get("payouts_owed_unpaid") is not None:
        rows.append("<tr><td>(owed to sub-workers, unpaid)</td>"
                    f'{_num("payouts_owed_unpaid", report["payouts_owed_unpaid"], loc)}'
                    '<td class="n"></td></tr>')
    return (f'<div class="scroll"><table class="totals"><thead><tr><th></th>'
            f'<th class="n">{_e(cur)}</th><th class="n">of gross</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def _hours(report: dict) -> str:
    totals, cur, loc = report["totals"], report["currency"], report.get("locale")
    rows = "".join(f"<tr><td>{_e(label)}{'' if key.endswith('hours') else ' (' + _e(cur) + ')'}"
                   f"</td>{_num(f'totals.{key}', totals.get(key), loc)}</tr>"
                   for key, label in HOURS if key in totals)
    note = ""
    unhoured = report.get("gross_without_hours")
    if unhoured and Decimal(unhoured) > 0 and Decimal(totals.get("hours") or 0) > 0:
        note = (f'<p><span data-field="gross_without_hours" data-value="{_e(unhoured)}">'
                f"{_e(_grouped(unhoured, loc))}</span> {_e(cur)} of gross came from work with no "
                "hours recorded (fixed-price, direct clients), so net per hour is "
                "overstated.</p>")
    return (f'<h2 id="hours">Hours</h2><div class="scroll"><table class="hours"><tbody>{rows}'
            f"</tbody></table></div>{note}")


def _bar_chart(bars: list[tuple[str, str, str, str]], cur: str, label: str, caption: str,
               mark: tuple[str, str] | None = None, loc: str | None = None) -> str:
    """Horizontal bars from zero on one scale: (label, value, css class, data attributes) per
    bar; `mark` (value, label) draws a dashed line across them, e.g. at a benchmark."""
    width, pad, row, head = 360, 4, 40, 18 if mark else 0
    values = [Decimal(v) for _, v, _, _ in bars] + ([Decimal(mark[0])] if mark else [])
    top = max([Decimal(0), *values]) or Decimal(1)

    def x(value: Decimal) -> float:
        return round(pad + float(max(value, Decimal(0)) / top) * (width - 2 * pad), 1)

    height = head + row * len(bars) + 4
    out = [f'<figure><svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{_e(label)}">']
    for i, (text, value, kind, attrs) in enumerate(bars):
        y = head + i * row
        out.append(f'<text x="{pad}" y="{y + 14}">{_e(text)}</text>')
        out.append(f'<text class="value" x="{width - pad}" y="{y + 14}" text-anchor="end">'
                   f"{_e(_grouped(value, loc))}</text>")
        out.append(f'<rect class="{kind}" x="{pad}" y="{y + 20}" '
                   f'width="{max(x(Decimal(value)) - pad, 1.5)}" height="14" rx="2" {attrs} '
                   f'data-value="{_e(value)}"><title>{_e(text)}: {_e(_grouped(value, loc))} '
                   f"{_e(cur)}</title></rect>")
    if mark:
        at = x(Decimal(mark[0]))
        anchor = "end" if at > width / 2 else "start"
        out.append(f'<line class="mark" x1="{at}" y1="{head - 2}" x2="{at}" y2="{head + 4}"/>')
        out += [f'<line class="mark" x1="{at}" y1="{head + i * row + 18}" x2="{at}" '
                f'y2="{head + i * row + 36}"/>' for i in range(len(bars))]
        out.append(f'<text class="value" x="{at}" y="12" text-anchor="{anchor}">'
                   f"{_e(mark[1])} {_e(_grouped(mark[0], loc))}</text>")
    out.append(f"</svg><figcaption>{_e(caption)}</figcaption></figure>")
    return "\n".join(out)


def _benchmark_svg(report: dict) -> str:
    """A one-month report: the month's net beside each benchmark's monthly figure."""
    cur, loc = report["currency"], report.get("locale")
    net = report["totals"]["net"]
    bars = [("You: net this month", net, "you" if Decimal(net) >= 0 else "cost",
             'data-field="totals.net"')]
    for i, item in enumerate(report["benchmarks"]):
        if item.get("monthly") is None:
            continue
        ratio = f" · you: {_ratio(item['ratio'], loc)}" if item.get("ratio") else ""
        ratio_attr = f' data-ratio="{_e(item["ratio"])}"' if item.get("ratio") else ""
        bars.append((f"{_benchmark_name(item['name'])}{ratio}", item["monthly"], "bench",
                     f'data-field="benchmarks.{i}.monthly"{ratio_attr}'))
    return _bar_chart(bars, cur, f"Net against local benchmarks, {cur}",
                      f"Per month, in {cur}; a ratio above 1 means you earned more than the "
                      "benchmark.", loc=loc)


def _months_svg(report: dict) -> str:
    """A longer period: net per month, the chosen benchmark marked across the bars."""
    cur, loc = report["currency"], report.get("locale")
    months = report.get("months") or []
    chosen = next((b for b in report.get("benchmarks") or []
                   if months and b["name"] == months[0].get("benchmark") and b.get("monthly")),
                  None)
    bars = []
    for i, item in enumerate(months):
        ratio = ""
        if chosen and item.get("benchmark_ratio"):
            ratio = f" · {_ratio(item['benchmark_ratio'], loc)}"
        attrs = f'data-field="months.{i}.net"' + (
            f' data-ratio="{_e(item["benchmark_ratio"])}"' if item.get("benchmark_ratio")
            else "")
        bars.append((f"{item['month']}{ratio}", item["net"],
                     "you" if Decimal(item["net"]) >= 0 else "cost", attrs))
    name = _benchmark_name(chosen["name"]).lower() if chosen else ""
    mark = (chosen["monthly"], name) if chosen else None
    caption = f"Net per month, in {cur}" + (
        f"; the dashed line is the {name} per month, and the ratio your net to it." if chosen
        else ".")
    return _bar_chart(bars, cur, f"Net per month, {cur}", caption, mark, loc)


def _months_table(report: dict) -> str:
    cur, loc = report["currency"], report.get("locale")
    rows = []
    for i, item in enumerate(report.get("months") or []):
        ratio = item.get("benchmark_ratio")
        change = item.get("net_change")
        rows.append(
            f"<tr><td>{_e(item['month'])}</td>{_num(f'months.{i}.gross', item.get('gross'), loc)}"
            f"{_num(f'months.{i}.net', item.get('net'), loc)}"
            f'<td class="n" data-field="months.{i}.benchmark_ratio" data-value="{_e(ratio)}">'
            f"{_e('—' if ratio is None else _ratio(ratio, loc))}</td>"
            f'<td class="n" data-field="months.{i}.net_change" data-value="{_e(change)}">'
            f"{_e(_pct(change, loc, signed=True))}</td></tr>")
    return ('<div class="scroll"><table class="months"><thead><tr><th>Month</th>'
            f'<th class="n">Gross {_e(cur)}</th><th class="n">Net</th>'
            '<th class="n">× benchmark</th><th class="n">Change</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def _benchmark_name(name: str) -> str:
    words = [w.upper() if w in ("gdp", "gni", "ppp") else w for w in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _benchmark_table(report: dict) -> str:
    """One row per benchmark: name, year and source in the first cell (narrow screens), the
    monthly figure in the report currency (and in its own), and your ratio to it."""
    cur, loc = report["currency"], report.get("locale")
    rows = []
    for i, item in enumerate(report["benchmarks"]):
        year = str(item["year"] or "yours") + ("*" if item.get("picked") else "")
        local = ""
        if item.get("monthly_local") is not None and item.get("currency") != cur:
            local = (f'<br><span class="muted" data-field="benchmarks.{i}.monthly_local" '
                     f'data-value="{_e(item["monthly_local"])}">'
                     f"{_e(_grouped(item['monthly_local'], loc))} {_e(item['currency'])}</span>")
        why = item.get("why") or item.get("picked") or ""
        ratio = "—" if item["ratio"] is None else _ratio(item["ratio"], loc)
        about = _link(item.get("url"), item.get("source") or "")
        if why:
            about += f"; {_e(why)}"
        rows.append(
            f"<tr class=head><td><strong>{_e(_benchmark_name(item['name']))}</strong> "
            f"{_e(year)}</td>"
            f'<td class="n" data-field="benchmarks.{i}.monthly" '
            f'data-value="{_e(item.get("monthly"))}">{_e(_grouped(item.get("monthly"), loc))}'
            f"{local}</td>"
            f'<td class="n" data-field="benchmarks.{i}.ratio" data-value="{_e(item["ratio"])}">'
            f"{_e(ratio)}</td></tr>"
            f'<tr class=about><td colspan=3><small class="muted">{about}</small></td></tr>')
    return ('<div class="scroll"><table class="benchmarks"><thead><tr><th>Benchmark</th>'
            f'<th class="n">Per month {_e(cur)}</th><th class="n">You</th>'
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
            + "<p>You: your net per month (over the months with data) to the benchmark's."
            + (" * the nearest year with a figure." if any(
                i.get("picked") for i in report["benchmarks"]) else "") + "</p>")


def _table(title: str, section: str, key: str, items: list[dict],
           columns: list[tuple[str, str]], cur: str, loc: str | None = None) -> str:
    if not items:
        return ""
    head = f"<th>{_e(key.capitalize())}</th>" + "".join(
        f'<th class="n">{_e(label.format(cur=cur))}</th>' for _, label in columns)
    body = []
    for i, item in enumerate(items):
        cells = [f"<td>{_e(item.get(key) or '(none)')}</td>"]
        for field, _ in columns:
            if field == "fee_rate":
                cells.append(f'<td class="n" data-field="{section}.{i}.fee_rate" '
                             f'data-value="{_e(item.get(field))}">'
                             f"{_e(_pct(item.get(field), loc))}</td>")
            else:
                cells.append(_num(f"{section}.{i}.{field}", item.get(field), loc))
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<h2 id="{section}">{_e(title)}</h2><div class="scroll">'
            f'<table class="{section}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


PAYOUT_COLUMNS = [("payout_costs", "Payout costs"), ("net_home", "Net home")]
"""Shown when some payout cost was charged back (ledger.attribution)."""


def _shown(items: list[dict], columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    from ledger.render.report import has_payout_costs

    extra = PAYOUT_COLUMNS if has_payout_costs(items) else []
    return [c for c in [*columns, *extra] if any(c[0] in item for item in items)]


def _platforms(report: dict) -> str:
    items = report.get("by_platform") or []
    columns = [("gross", "Gross {cur}"), ("fees", "Fees"), ("fee_rate", "Fee rate"),
               ("net", "Net"), ("hours", "Hours"), ("net_hourly", "Net/h")]
    return _table("By platform", "by_platform", "platform", items, _shown(items, columns),
                  report["currency"], report.get("locale"))


def _clients(report: dict) -> str:
    items = report.get("by_client") or []
    columns = [("gross", "Gross {cur}"), ("fees", "Fees"), ("net", "Net"), ("hours", "Hours"),
               ("net_hourly", "Net/h")]
    return _table("By client", "by_client", "client", items, _shown(items, columns),
                  report["currency"], report.get("locale"))


def _rules(report: dict) -> str:
    items = report.get("rules") or []
    if not items:
        return ""
    loc = report.get("locale")
    rows = []
    for i, item in enumerate(items):
        figures = ", ".join(
            f'{_e(k.replace("_", " "))} <span data-field="rules.{i}.figures.{_e(k)}" '
            f'data-value="{_e(v)}">{_e(_grouped(v, loc))}</span>'
            for k, v in item.get("figures", {}).items())
        rows.append(f"<tr><td>{_e(item.get('id'))}<br><span class=muted>"
                    f"{_e(item.get('rule'))}, {_e(item.get('confidence'))}</span></td>"
                    f"<td>{figures}</td><td class=n>{_e(item.get('rows'))}</td>"
                    f"<td>{_link(item.get('source'), item.get('source') or '')}</td></tr>")
    return ("<h2 id=rules>Figures derived by rules</h2><p>What the dated fee and FX rules "
            "worked out where a source shows only a net amount, each with its rule.</p>"
            "<div class=scroll><table><thead><tr>"
            f"<th>Rule</th><th>Figures ({_e(report['currency'])})</th><th class=n>Rows</th>"
            "<th>Source</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def _rates(report: dict) -> str:
    rates = report.get("rates") or []
    if not rates:
        return ""
    rows = "".join(
        f"<tr><td>{_e(r.get('date'))}</td><td>{_e(r.get('from'))}/{_e(r.get('to'))}</td>"
        f'<td class="n" data-field="rates.{i}.rate" data-value="{_e(r.get("rate"))}">'
        f"{_e(r.get('rate'))}</td><td>{_e(r.get('provider'))}"
        f"{'<br><span class=muted>' + _e(r['detail']) + '</span>' if r.get('detail') else ''}"
        "</td></tr>" for i, r in enumerate(rates))
    return ("<h2 id=rates>Exchange rates used</h2><details>"
            f"<summary>{len(rates)} rate(s), each with its source</summary>"
            "<div class=scroll><table><thead><tr><th>Date</th>"
            "<th>Pair</th><th class=n>Rate</th><th>Source</th></tr></thead><tbody>"
            f"{rows}</tbody></table></div></details>")


def _sources(report: dict) -> str:
    items = report.get("sources") or []
    if not items:
        return ""
    rows = "".join(f"<tr><td>{_e(s.get('file') or s.get('import_id'))}</td>"
                   f"<td>{_e(s.get('format'))}</td><td class=n>{_e(s.get('rows'))}</td></tr>"
                   for s in items)
    return ("<h2 id=sources>Where the figures come from</h2><div class=scroll><table><thead><tr>"
            "<th>File</th><th>Format</th><th class=n>Rows</th></tr></thead><tbody>"
            f"{rows}</tbody></table></div><p><code>ledger transactions</code> lists every row "
            "with its file line.</p>")


def _warnings(report: dict) -> str:
    return "".join(f'<p class="warn">{_e(w)}</p>' for w in report.get("warnings") or [])


def _footer(report: dict) -> str:
    return (f"<footer>freelance-ledger · {_e(report.get('schema'))} · "
            f"{_e(report.get('rows', ''))} rows in the period · made offline, loads "
            "nothing.</footer>")
