"""`ledger rates show` and `ledger rates check` as output: the rates frame (rules.fx's
`show_pair` / `check_rows`) as records for JSON, as CSV, or as a table for people."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console

SHOWN = ("date", "from", "currency", "to", "rows", "rate", "provider", "detail", "rate_date",
         "days_away")
"""The table's columns, in this order, those the frame has."""


def records(table: pl.DataFrame) -> list[dict[str, str | None]]:
    """Each row with every value as text (rates keep every digit), None for none."""
    return [{k: (str(v) if v is not None else None) for k, v in r.items()}
            for r in table.iter_rows(named=True)]


def rates_csv(table: pl.DataFrame) -> str:
    """The frame as CSV, a header of its columns, cells safe for a spreadsheet."""
    from ledger.render.report import records_csv

    return records_csv(records(table), table.columns)


def print_rates(table: pl.DataFrame, console: Console) -> None:
    """The rates as a table: each rate to six significant digits, "—" for none; provider and
    detail are the first columns to go on a narrow terminal."""
    from decimal import Decimal

    from ledger.render.fit import Code, Col, F, fit_table

    shown = [c for c in SHOWN if c in table.columns]
    texts = {"provider": Code("provider", drop=1),
             "detail": Col("detail", min_width=10, drop=2)}
    rows = records(table)
    for record in rows:
        if record.get("rate"):
            record["rate"] = f"{Decimal(record['rate']):.6g}"
    console.print(fit_table(
        [texts.get(c) or F(c.replace("_", " "), justify="left") for c in shown],
        [["—" if record[c] is None else record[c] for c in shown] for record in rows]))
