"""What an hledger or beancount export needs beyond the rows: the rows as `ledger report`
counts them (fee rules, reconcile's matches, payouts), each valued in the home currency at its
date's rate, the rates themselves (price directives, with their provider), and the exports'
own running balances as balance assertions, with the opening balances they imply.

Valued this way the journal reproduces the report: every income and expense posting in its
own currency, priced at its date by a price directive with exactly the report's rate, so
`hledger bal Income Expenses --value=then,PKR` sums what the report sums; a conversion's FX
cost (its two legs valued at the day's rates) is its own `Expenses:FX` posting in the home
currency, the legs priced at their home-currency values (`@@`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.counting.balances import Checkpoint

if TYPE_CHECKING:
    import polars as pl

    from ledger.reports.report import Period
    from ledger.store.directory import Ledger

OPENING = "Equity:Opening-Balances"
"""Where the balance an account had before its first exported row comes from."""


@dataclass(frozen=True)
class Price:
    date: dt.date
    currency: str
    rate: Decimal
    """Home currency per unit of `currency`, exactly as the report used it."""
    home: str
    source: str
    """Provider, its detail and the rate's own date (`user rates.csv, 2024-06-03`)."""


@dataclass
class Book:
    rows: pl.DataFrame
    """The rows to write; with a `value` column (in `home`) when they could be valued."""
    label: str
    home: str | None = None
    """The currency the rows are valued in (None: they could not be)."""
    currency: str | None = None
    """The currency asked for (the operating currency, even where no rate was found)."""
    prices: list[Price] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    openings: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    """(ledger account, currency) -> balance before the first exported row."""
    notes: list[str] = field(default_factory=list)
    """What the user should know: rates missing, balances that could not be asserted."""


def rate_text(rate: Decimal) -> str:
    """A rate exactly, without trailing zeros: `278.45`, `0.003591`."""
    return f"{rate.normalize():f}"


def plain(rows: pl.DataFrame, label: str = "rows") -> Book:
    """The rows as they are: no valuation, no prices, no assertions."""
    return Book(rows, label)


def rows_and_period(ledger: Ledger, *, month: str | None = None, year: int | None = None,
                    start: str | None = None, end: str | None = None
                    ) -> tuple[pl.DataFrame, Period]:
    """The ledger's stored rows and the period asked for (every row's dates if none)."""
    from ledger.core.errors import DataError
    from ledger.reports.report import Period, resolve_period

    rows = ledger.rows()
    if rows.is_empty():
        raise DataError("the ledger is empty", path=ledger.root,
                        hint="import exports first: ledger import FILE")
    everything = month is None and year is None and start is None and end is None
    period = Period(rows["date"].min(), rows["date"].max(), "all rows") if everything else \
        resolve_period(rows, month=month, year=year, start=start, end=end)
    return rows, period


def report_rows(ledger: Ledger, rows: pl.DataFrame, period: Period, currency: str,
                chain: object = None) -> pl.DataFrame:
    """The period's rows exactly as `ledger report` counts them (report.count_period): the
    counting pipeline (ledger.counting), then payments to workers and payouts.csv."""
    from ledger.reports.report import count_period
    from rules.fx import FxChain

    chain = chain or FxChain.for_ledger(rows, ledger.rates_path)
    return count_period(ledger, rows, period, currency, chain)[1]  # type: ignore[arg-type]


def build(ledger: Ledger, *, month: str | None = None, year: int | None = None,
          start: str | None = None, end: str | None = None, derived: bool = True,
          currency: str | None = None) -> Book:
    """The period's rows (as the report counts them, with `derived`), valued in the home
    currency, with the prices used and the balance assertions that hold."""
    import polars as pl

    from ledger.core.errors import DataError
    from ledger.reports.report import report_currency
    from rules.fx import FxChain

    rows, period = rows_and_period(ledger, month=month, year=year, start=start, end=end)
    home = report_currency(ledger, currency)
    chain = FxChain.for_ledger(rows, ledger.rates_path)
    chosen = report_rows(ledger, rows, period, home, chain) if derived else \
        rows.filter(pl.col("date").is_between(period.start, period.end))
    book = Book(chosen, period.label, home, currency=home)
    if chosen.is_empty():
        return book
    try:
        conversion = chain.convert(chosen, home, where=str(ledger.rates_path))
    except DataError as exc:
        book.notes.append(f"not valued in {home}: {exc.message}; {exc.hint}")
        book.home = None
    else:
        book.rows = conversion.rows
        book.prices = [Price(r["date"], r["from"], Decimal(r["rate"]).normalize(), home,
                             _source(r)) for r in conversion.rates.iter_rows(named=True)]
        book.notes += conversion.warnings
    _assertions(ledger, rows, book)
    return book


def _source(rate: dict) -> str:
    parts = [rate["provider"] or "", rate["detail"] or ""]
    if rate["rate_date"] is not None and rate["rate_date"] != rate["date"]:
        parts.append(f"rate of {rate['rate_date']}")
    return ", ".join(p for p in parts if p)


def _assertions(ledger: Ledger, stored: pl.DataFrame, book: Book) -> None:
    """Fill in the checkpoints the journal reproduces and the openings they need."""
    import polars as pl

    from ledger.counting import balances
    from ledger.reports.journal import file_names

    printed, notes = balances.printed(ledger)
    book.notes += notes
    first, last = book.rows["date"].min(), book.rows["date"].max()
    points = [p for p in balances.checkpoints(stored, printed, file_names(ledger))
              if first <= p.date <= last]  # type: ignore[operator]
    if not points:
        return
    daily = book.rows.group_by("account", "currency", "date").agg(
        pl.col("amount").sum()).sort("date")
    moved: dict[tuple[str, str], list[tuple[dt.date, Decimal]]] = {}
    for account, currency, date, amount in daily.iter_rows():
        moved.setdefault((account, currency), []).append((date, Decimal(amount)))
    kept, openings, dropped = balances.assertable(points, moved)
    book.checkpoints = kept
    book.openings = {k: v for k, v in openings.items() if v != 0}
    if dropped:
        book.notes.append(
            f"{dropped} running balance(s) printed in your exports are not asserted: the "
            "rows before them are not all in the ledger (a file missing between two others?)")


def journal(book: Book, files: dict[str, str]) -> tuple[list, list[Checkpoint]]:
    """The book's transactions (ledger.reports.export.Transaction), an opening-balances transaction
    first where the running balances need one, each assertion on the posting of the last
    transaction of its day that moves its account and currency; and the checkpoints that
    found no such posting (written as standalone assertions)."""
    from dataclasses import replace

    from ledger.reports.journal import Posting, Transaction, account_path, transactions

    txns = transactions(book.rows, files, book.home)
    if book.openings and txns:
        postings: list[Posting] = []
        totals: dict[str, Decimal] = {}
        for (account, currency), amount in sorted(book.openings.items()):
            postings.append(Posting(f"Assets:{account_path(account)}", amount, currency))
            totals[currency] = totals.get(currency, Decimal(0)) + amount
        postings += [Posting(OPENING, -amount, currency) for currency, amount in totals.items()]
        txns.insert(0, Transaction(
            txns[0].date, "*", "Opening balances",
            "before the first exported row, as the exports' running balances imply",
            tuple(postings)))
    last: dict[tuple[str, str, dt.date], tuple[int, int]] = {}
    for i, t in enumerate(txns):
        for j, p in enumerate(t.postings):
            last[(p.account, p.currency, t.date)] = (i, j)
    loose: list[Checkpoint] = []
    for point in book.checkpoints:
        where = last.get((f"Assets:{account_path(point.account)}", point.currency, point.date))
        if where is None:
            loose.append(point)
            continue
        i, j = where
        t = txns[i]
        p = replace(t.postings[j], assertion=point.balance,
                    meta=(*t.postings[j].meta, ("balance", f"{point.file} line {point.line}")))
        txns[i] = replace(t, postings=(*t.postings[:j], p, *t.postings[j + 1:]))
    return txns, loose
