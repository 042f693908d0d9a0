"""The floor of an import: only the work the house rules cannot skip, in bare polars.

Reads the file's bytes and their sha256 (the import id), reads the CSV as strings, parses the
date and the amounts exactly (grouping removed, cast to Decimal), makes the rows the import
makes (PayPal: a gross row and a fee row per transaction; the others one row per line),
hashes each row's id (sha256 of source, account and the row's key, as the ledger does) and
writes the rows as Parquet. No detection, no checks, no archive copy, no lock, no log: what any
importer that keeps money exact, gives rows stable ids and stores them must spend at least.
`make bench` times it beside the real import of each export, so the gap between the two is
what our checks cost, and the gap between it and a bare `read_csv` is what the rules cost.

PayPal, Upwork and Payoneer rows get the very ids the import gives them (the same key: the
export's own transaction id, with the leg, or currency and amount); the bank's key is built
from the same content (day, amount, currency, narration, ref, balance), as long a string.

Widened (`--ledger-width`): the same floor, but it stores the ledger's 20 columns, as an import
does, in the ledger's types: each export cell the ledger keeps as it is (or parsed exactly)
filled from that cell (Payoneer's description with its Additional Description, its Transfer
Amount and currency; every layout's source, account, origin and line), and the columns only an
importer's rules decide (kind, category, hours, the links' related refs, Payoneer's and the
bank's counterparty) at their cheapest: one kind for every row, nulls. Columns the ledger does
not keep (balances, PayPal's gross, fee and net) are parsed but not stored. `make bench` prints
the import against it beside the target's ratio: how much of an import's time over the floor
is the ledger's width, and how much its rules and checks.

Usage: python bench/floor.py EXPORT.csv OUT.parquet [LAYOUT] [--ledger-width]
LAYOUT: paypal (default), upwork, payoneer or hdfc: the layouts of bench.generate,
bench.gen_payoneer and bench.gen_bank.
"""

from __future__ import annotations

import hashlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


LEDGER_COLUMNS = (
    "id", "date", "source", "account", "kind", "category", "amount", "currency", "counterparty",
    "contract", "hours", "description", "ref", "related_ref", "counter_amount", "counter_currency",
    "fee_included", "origin", "import_id", "line")
"""The ledger's columns in its order (ledger.core.schema.columns; tests/test_bench_floor.py
holds them equal), written here so that the floor stays bare polars."""


def main(path: str, out: str, layout: str = "paypal", *flags: str) -> None:
    import polars as pl
    import polars_hash  # noqa: F401  (the `chash` namespace)

    if any(flag != "--ledger-width" for flag in flags):
        raise SystemExit(__doc__)
    wide = bool(flags)
    with open(path, "rb") as handle:
        data = handle.read()
    import_id = hashlib.sha256(data).hexdigest()
    skip = 5 if layout == "hdfc" else 0  # the bank's preamble
    df = pl.read_csv(data, infer_schema=False, skip_rows=skip)

    def money(column: str) -> pl.Expr:
        return pl.col(column).str.replace_all(",", "", literal=True).cast(pl.Decimal(38, 4))

    lazy = df.lazy().with_row_index("line", offset=2 + skip)
    if layout == "paypal":
        base = lazy.select(
            "line", date=pl.col("Date").str.strptime(pl.Date, "%d/%m/%Y"),
            currency=pl.col("Currency"), gross=money("Gross"), fee=money("Fee"),
            net=money("Net"), balance=money("Balance"), counterparty=pl.col("Name"),
            description=pl.col("Type"), ref=pl.col("Transaction ID"),
            related_ref=pl.col("Reference Txn ID"),
        ).collect()
        rows = pl.concat([
            base.with_columns(amount=pl.col("gross"), leg=pl.lit("gross")),
            base.filter(pl.col("fee") != 0).with_columns(amount=pl.col("fee"),
                                                          leg=pl.lit("fee")),
        ])
        key = pl.col("ref") + "|" + pl.col("leg")
    elif layout == "upwork":
        rows = lazy.select(
            "line", date=pl.col("Date").str.strptime(pl.Date, "%b %d, %Y"),
            ref=pl.col("Ref ID"), description=pl.col("Description"),
            counterparty=pl.col("Team"), amount=money("Amount"), balance=money("Balance"),
        ).collect()
        key = pl.col("ref")
    elif layout == "payoneer":
        rows = lazy.select(
            "line",
            date=pl.col("Transaction Date").str.strptime(pl.Date, "%m/%d/%Y"),
            ref=pl.col("Transaction ID"), currency=pl.col("Currency"),
            amount=money("Credit Amount").fill_null(0) - money("Debit Amount").fill_null(0),
            balance=money("Running Balance"),
            **({"description": pl.col("Description")} if not wide else {
                "description": pl.concat_str([pl.col("Description"),
                                              pl.col("Additional Description")],
                                             separator=" - ", ignore_nulls=True),
                "counter_amount": money("Transfer Amount"),
                "counter_currency": pl.col("Transfer Amount Currency")}),
        ).collect()
        key = pl.concat_str([pl.col("ref"), pl.col("currency"),
                             pl.col("amount").cast(pl.String)], separator="|")
    elif layout == "hdfc":
        rows = lazy.with_columns(
            date=pl.col("Date").str.strptime(pl.Date, "%d/%m/%y", strict=False),
        ).filter(pl.col("date").is_not_null()).select(  # not the summary footer
            "line", "date", description=pl.col("Narration"), ref=pl.col("Chq./Ref.No."),
            amount=money("Deposit Amt.").fill_null(0) - money("Withdrawal Amt.").fill_null(0),
            balance=money("Closing Balance"),
        ).collect()
        key = pl.concat_str([pl.col("date").cast(pl.Int32), pl.col("amount").cast(pl.String),
                             pl.lit("INR"), pl.col("description"), pl.col("ref"),
                             pl.col("balance").cast(pl.String), pl.lit(""), pl.lit("0")],
                            separator="|")
    else:
        raise SystemExit(f"unknown layout {layout!r}: paypal, upwork, payoneer or hdfc")
    source, account = {"paypal": ("paypal", "paypal"), "upwork": ("upwork", "upwork"),
                       "payoneer": ("payoneer", "payoneer"),
                       "hdfc": ("bank:hdfc", "bank:hdfc")}[layout]
    text = pl.concat_str([pl.lit(source), pl.lit(account), key], separator="\x1f")
    ids = rows.lazy().select(text.chash.sha2_256().str.slice(0, 32).alias("id"))
    rows = rows.with_columns(ids.collect(engine="streaming").to_series(),
                             import_id=pl.lit(import_id))
    if wide:
        rows = widened(rows, source, account, {"upwork": "USD", "hdfc": "INR"}.get(layout))
    rows.write_parquet(out, compression="lz4", statistics=True)


def widened(rows: pl.DataFrame, source: str, account: str, currency: str | None
            ) -> pl.DataFrame:
    """`rows` as the ledger's columns (LEDGER_COLUMNS) in its types: those the floor made,
    the rest a constant (source, account, origin, one kind, the `currency` of a layout without
    a currency column) or null, the rows' other columns left out."""
    import polars as pl

    kinds = pl.Enum(["earning", "refund", "platform_fee", "payment_fee", "fx", "bank_fee",
                     "tax", "transfer", "subcontractor_payout", "expense", "adjustment",
                     "other"])
    money = pl.Decimal(38, 4)
    given = {"source": pl.lit(source), "account": pl.lit(account),
             "origin": pl.lit("source"), "kind": pl.lit("other", dtype=kinds),
             "line": pl.col("line").cast(pl.Int64),
             **({"currency": pl.lit(currency)} if currency else {})}
    nulls = {"hours": pl.Float64, "counter_amount": money, "fee_included": money}
    return rows.select(
        given[name].alias(name) if name in given
        else pl.col(name) if name in rows.columns
        else pl.lit(None, dtype=nulls.get(name, pl.String)).alias(name)
        for name in LEDGER_COLUMNS)


if __name__ == "__main__":
    main(*sys.argv[1:])
