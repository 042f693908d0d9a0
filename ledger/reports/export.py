"""Exports of the canonical rows: hledger and beancount journals, CSV and Parquet.

The journals (ledger.journal builds the transactions, ledger.export_book values them and
finds the balance assertions, ledger.export_hledger / export_beancount write them) turn each
ledger row into one balanced transaction with its provenance; see those modules.

CSV and Parquet carry the canonical rows themselves; `read_csv` / `read_parquet` read them
back exactly (Decimal amounts, dates, kinds). In CSV a cell a spreadsheet would run as a
formula (starting with = + - @ tab, CR) gets a leading apostrophe, as do cells that start
with one, so `read_csv` can strip it without guessing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.errors import DataError
from ledger.reports.journal import (  # re-exported: the names callers know ledger.export by
    CONVERSIONS,
    FX,
    NAMES,
    TRANSFERS,
    Posting,
    Transaction,
    account_path,
    amount_text,
    component,
    conversion_pairs,
    counter_account,
    file_names,
    transactions,
)

if TYPE_CHECKING:
    import polars as pl

    from ledger.reports.export_book import Book
    from ledger.store.directory import Ledger

__all__ = ["CONVERSIONS", "FX", "NAMES", "TRANSFERS", "Posting", "Transaction", "account_path",
           "amount_text", "component", "conversion_pairs", "counter_account", "file_names",
           "transactions"]

FORMATS = ("hledger", "beancount", "csv", "parquet")

CSV_ESCAPE = r"^[=+\-@\t\r']"
"""CSV cells starting like this get a leading apostrophe (and lose it in read_csv)."""


# --- choosing rows --------------------------------------------------------------------------

def select(ledger: Ledger, *, month: str | None = None, year: int | None = None,
           start: str | None = None, end: str | None = None,
           derived: bool = False) -> tuple[pl.DataFrame, str]:
    """The ledger's rows, all of them or one period's, and a label for what was chosen.

    `derived`: the rows as the report counts them, with the fee rules applied (fees a source
    folded into net amounts, conversions inside withdrawals...; origin `rule:<id>`)."""
    import polars as pl

    from ledger.reports.export_book import rows_and_period

    rows, period = rows_and_period(ledger, month=month, year=year, start=start, end=end)
    if derived:  # as the report counts them: fee rules, what reconcile matched, payouts
        from ledger.reports.export_book import report_rows
        from ledger.reports.report import report_currency

        return report_rows(ledger, rows, period, report_currency(ledger, None)), period.label
    return rows.filter(pl.col("date").is_between(period.start, period.end)), period.label


def to_hledger(rows: pl.DataFrame, files: dict[str, str] | None = None,
               book: Book | None = None) -> str:
    """An hledger journal (ledger.export_hledger): declarations, prices and assertions from
    `book` (ledger.reports.export_book.build), or the rows alone."""
    from ledger.reports import export_book, export_hledger

    return export_hledger.render(book or export_book.plain(rows), files)


def to_beancount(rows: pl.DataFrame, files: dict[str, str] | None = None,
                 book: Book | None = None) -> str:
    """A beancount file (ledger.export_beancount), like `to_hledger`."""
    from ledger.reports import export_beancount, export_book

    return export_beancount.render(book or export_book.plain(rows), files)


# --- CSV and Parquet: the canonical rows themselves -------------------------------------------

def _string_columns() -> list[str]:
    import polars as pl

    from ledger.core.schema import columns

    return [name for name, dtype in columns().items() if dtype == pl.String()]


def to_csv(rows: pl.DataFrame) -> str:
    """The canonical rows as CSV: every column, amounts exact (`-25.0000`), empty cells for
    nulls and `""` for empty text, formula-like cells behind an apostrophe."""
    import polars as pl

    escaped = rows.with_columns(
        pl.when(pl.col(c).str.contains(CSV_ESCAPE)).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c) for c in _string_columns())
    return escaped.write_csv()


def read_csv(source: str | Path | bytes, where: str = "csv") -> pl.DataFrame:
    """Canonical rows back from `to_csv`: the same values and types, validated."""
    import io

    import polars as pl

    from ledger.core.schema import columns, validate

    data = source.encode() if isinstance(source, str) else source
    try:
        raw = pl.read_csv(data if isinstance(data, Path) else io.BytesIO(data),
                          infer_schema=False, glob=False)
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"not a ledger CSV: {exc}", path=where) from None
    expected = list(columns())
    if raw.columns != expected:
        raise DataError(f"the columns are {raw.columns}, expected {expected}", path=where,
                        hint="read a file written by `ledger export --format csv`")
    unescaped = raw.with_columns(
        pl.when(pl.col(c).str.starts_with("'")).then(pl.col(c).str.slice(1))
        .otherwise(pl.col(c)).alias(c) for c in _string_columns())
    try:
        typed = unescaped.with_columns(pl.col("date").str.to_date("%Y-%m-%d")).with_columns(
            pl.col(name).cast(dtype, strict=True) for name, dtype in columns().items()
            if name != "date")
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"a value does not fit its column: {exc}".splitlines()[0], path=where,
                        hint="read a file written by `ledger export --format csv`") from None
    return validate(typed, where)


def write_parquet(rows: pl.DataFrame, path: Path) -> None:
    """The canonical rows as Parquet (what ledger.parquet holds), written atomically."""
    from ledger.store.directory import atomic_write

    atomic_write(path, lambda tmp: rows.write_parquet(tmp))


def read_parquet(path: Path) -> pl.DataFrame:
    import polars as pl

    from ledger.core.schema import validate

    return validate(pl.read_parquet(path, glob=False), str(path))


def export(rows: pl.DataFrame, fmt: str, files: dict[str, str] | None = None,
           book: Book | None = None) -> str | pl.DataFrame:
    """Text for hledger, beancount and csv; the validated frame for parquet. `book`: the
    journals' valuation, prices and assertions (ledger.reports.export_book.build)."""
    from ledger.core.errors import UsageError
    from ledger.core.schema import validate

    if fmt == "hledger":
        return to_hledger(rows, files, book)
    if fmt == "beancount":
        return to_beancount(rows, files, book)
    if fmt == "csv":
        return to_csv(rows)
    if fmt == "parquet":
        return validate(rows, "export")
    raise UsageError(f"unknown export format {fmt!r}", hint="formats: " + ", ".join(FORMATS))
