"""The hledger journal: declarations that `hledger check -s` (strict) needs, market prices,
balance assertions, then one transaction per row (a conversion: its two legs and its FX cost).

- `commodity` for every currency (display precision: its minor units), `account` for every
  account with its type (`type: A/L/E/R/X`, so `hledger bs` and `hledger is` work);
- `P` for every rate the report used, its provider in a comment: with them
  `hledger bal Income Expenses --value=then,PKR` is the report's statement (each posting
  valued at its own date's rate, which is how the report values rows);
- `= BALANCE` on the posting where an export printed its running balance (end of that day).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.reports.export_book import OPENING, Book, rate_text
from ledger.reports.journal import (
    Transaction,
    aligned,
    amount_text,
    header,
    oneline,
    posting_lines,
)

if TYPE_CHECKING:
    from ledger.counting.balances import Checkpoint

TYPES = {"Assets": "A", "Liabilities": "L", "Equity": "E", "Income": "R", "Expenses": "X"}


def _tag_value(value: object) -> str:
    return oneline(value).replace(",", " ")


def _commodities(txns: list[Transaction], book: Book) -> list[str]:
    found = {p.currency for t in txns for p in t.postings}
    found |= {p.price[1] for t in txns for p in t.postings if p.price}
    found |= {p.currency for p in book.prices} | {p.home for p in book.prices}
    return sorted(found)


def _commodity_line(currency: str) -> str:
    from decimal import Decimal

    text = amount_text(Decimal(1000), currency)  # hledger wants a decimal mark: `1000.` (JPY)
    return f"commodity {text if '.' in text else text + '.'} {currency}"


def render(book: Book, files: dict[str, str] | None = None) -> str:
    """The book as an hledger journal (strict-clean)."""
    from ledger.reports.export_book import journal

    txns, loose = journal(book, files or {})
    out = header(txns[bool(book.openings and txns):], book.rows.height, "hledger journal", ";")
    out = out[:-1] + [f"; note: {oneline(n)}" for n in book.notes] + [""]
    if book.home:
        out += [f"; Valued in {book.home}: hledger -f FILE bal Income Expenses "
                f"--value=then,{book.home}", ""]
    out += ["decimal-mark .", ""]
    out += [_commodity_line(c) for c in _commodities(txns, book)]
    names = sorted({p.account for t in txns for p in t.postings} | (
        {OPENING} if book.openings else set()))
    width = max((len(n) for n in names), default=0) + 2
    out += [""] * bool(names) + [f"account {name.ljust(width)}; type: {TYPES[name.split(':')[0]]}"
                                 for name in names]
    if book.prices:
        out.append("")
        out += [f"P {p.date} {p.currency} {rate_text(p.rate)} {p.home}  ; {p.source}"
                for p in book.prices]
    for t in txns:
        out += ["", *_transaction(t)]
    out += _loose(loose)
    return "\n".join(out) + "\n"


def _transaction(t: Transaction) -> list[str]:
    payee = oneline(t.payee).replace("|", "/").replace(";", ",")
    note = oneline(t.narration).replace(";", ",")
    out = [f"{t.date} {t.flag} {payee} | {note}".rstrip()]
    if t.meta:
        out.append("    ; " + ", ".join(f"{k}: {_tag_value(v)}" for k, v in t.meta))
    lines = posting_lines(t.postings, "    ")
    lines = [(a, m, price + (f" = {amount_text(p.assertion, p.currency)} {p.currency}"
                             if p.assertion is not None else ""))
             for (a, m, price), p in zip(lines, t.postings, strict=True)]
    for line, p in zip(aligned(lines), t.postings, strict=True):
        tags = ", ".join(f"{k}: {_tag_value(v)}" for k, v in p.meta)
        out.append(f"{line}  ; {tags}" if tags else line)
    return out


def _loose(points: list[Checkpoint]) -> list[str]:
    from ledger.reports.journal import account_path

    out = []
    for p in points:
        amount = f"{amount_text(p.balance, p.currency)} {p.currency}"
        out += ["", f"{p.date} * Balance | as printed in {oneline(p.file)} line {p.line}",
                f"    Assets:{account_path(p.account)}  0 {p.currency} = {amount}"]
    return out
