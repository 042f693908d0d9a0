"""The beancount file: the home currency as operating currency (fava's columns), `open` with
each account's currencies, `price` for every rate the report used (its provider as metadata),
`balance` where an export printed its running balance, then one transaction per row.

beancount asserts a balance at the start of a day, so an export's balance after the last row
of a day is asserted on the next day. `bean-query` values each posting at its date with
`convert(position, 'PKR', date)`, which is how the report values rows.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ledger.reports.export_book import Book, rate_text
from ledger.reports.journal import (
    Transaction,
    account_path,
    aligned,
    header,
    oneline,
    posting_lines,
)

if TYPE_CHECKING:
    from ledger.counting.balances import Checkpoint


def _string(text: object) -> str:
    escaped = oneline(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _meta(key: str, value: object) -> str:
    return f"{key}: {value}" if isinstance(value, int) else f"{key}: {_string(value)}"


def _opens(txns: list[Transaction], points: list[Checkpoint]) -> list[str]:
    first: dict[str, dt.date] = {}
    currencies: dict[str, set[str]] = {}
    for t in txns:
        for p in t.postings:
            if p.account not in first or t.date < first[p.account]:
                first[p.account] = t.date
            currencies.setdefault(p.account, set()).add(p.currency)
    for point in points:  # a balance with no row that day still needs its account open
        name = f"Assets:{account_path(point.account)}"
        first[name] = min(first.get(name, point.date), point.date)
        currencies.setdefault(name, set()).add(point.currency)
    return [f"{first[name]} open {name} {','.join(sorted(currencies[name]))}"
            for name in sorted(first)]


def render(book: Book, files: dict[str, str] | None = None) -> str:
    """The book as a beancount file (bean-check and fava clean)."""
    from ledger.reports.export_book import journal
    from ledger.reports.journal import amount_text

    txns, loose = journal(book, files or {})
    out = header(txns[bool(book.openings and txns):], book.rows.height, "beancount", ";;")
    out = out[:-1] + [f";; note: {oneline(n)}" for n in book.notes] + [""]
    if book.home:
        out += [f";; Valued in {book.home} at each row's date: bean-query FILE \"SELECT account, "
                f"sum(convert(position, '{book.home}', date)) WHERE account ~ "
                "'^(Income|Expenses)' GROUP BY account\"", ""]
    out += ['option "title" "Freelance ledger"']
    if book.currency or book.home:
        out += [f'option "operating_currency" "{book.currency or book.home}"']
    out.append("")
    out += _opens(txns, loose)
    if book.prices:
        out.append("")
    for p in book.prices:
        out += [f"{p.date} price {p.currency} {rate_text(p.rate)} {p.home}",
                f"  {_meta('source', p.source)}"]
    for t in txns:
        out += ["", f"{t.date} {t.flag} {_string(t.payee)} {_string(t.narration)}"]
        out += [f"  {_meta(k, v)}" for k, v in t.meta]
        lines = aligned(posting_lines(t.postings, "  "))
        for line, p in zip(lines, t.postings, strict=True):
            out.append(line)
            out += [f"    {_meta(k, v)}" for k, v in p.meta if k != "balance"]
    asserted = [(t.date, p) for t in txns for p in t.postings if p.assertion is not None]
    for date, p in asserted:
        where = dict(p.meta).get("balance", "")
        out += ["", f"{date + dt.timedelta(days=1)} balance {p.account} "
                    f"{amount_text(p.assertion, p.currency)} {p.currency}",  # type: ignore[arg-type]
                f"  {_meta('printed', where)}"]
    for point in loose:
        out += ["", f"{point.date + dt.timedelta(days=1)} balance "
                    f"Assets:{account_path(point.account)} "
                    f"{amount_text(point.balance, point.currency)} {point.currency}",
                f"  {_meta('printed', f'{point.file} line {point.line}')}"]
    return "\n".join(out) + "\n"
