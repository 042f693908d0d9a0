"""The floor of a PayPal import: only the work the house rules cannot skip, in bare polars.

Reads the file's bytes and their sha256 (the import id), reads the CSV as strings, parses the
date and the four amounts exactly (grouping removed, cast to Decimal), makes a gross row and a
fee row per transaction, hashes each row's id (sha256, as the ledger does) and writes the rows
as Parquet. No detection, no checks, no archive copy, no lock, no log: what any importer that
keeps money exact, gives rows stable ids and stores them must spend at least. `make bench`
times it beside the real import, so the gap between the two is what our checks cost, and the
gap between it and a bare `read_csv` is what the rules cost.

Usage: python bench/floor.py EXPORT.csv OUT.parquet   (the layout of bench.generate's PayPal)
"""

from __future__ import annotations

import hashlib
import sys


def main(path: str, out: str) -> None:
    import polars as pl
    import polars_hash  # noqa: F401  (the `chash` namespace)

    with open(path, "rb") as handle:
        data = handle.read()
    import_id = hashlib.sha256(data).hexdigest()
    df = pl.read_csv(data, infer_schema=False)

    def money(column: str) -> pl.Expr:
        return pl.col(column).str.replace_all(",", "", literal=True).cast(pl.Decimal(38, 4))

    base = df.lazy().with_row_index("line", offset=2).select(
        "line", date=pl.col("Date").str.strptime(pl.Date, "%d/%m/%Y"),
        currency=pl.col("Currency"), gross=money("Gross"), fee=money("Fee"),
        net=money("Net"), balance=money("Balance"), counterparty=pl.col("Name"),
        description=pl.col("Type"), ref=pl.col("Transaction ID"),
        related_ref=pl.col("Reference Txn ID"),
    ).collect()
    rows = pl.concat([
        base.with_columns(amount=pl.col("gross"), leg=pl.lit("gross")),
        base.filter(pl.col("fee") != 0).with_columns(amount=pl.col("fee"), leg=pl.lit("fee")),
    ])
    key = pl.concat_str([pl.lit("paypal"), pl.lit("paypal"), pl.col("ref") + "|" + pl.col("leg")],
                        separator="\x1f")
    ids = rows.lazy().select(key.chash.sha2_256().str.slice(0, 32).alias("id"))
    rows = rows.with_columns(ids.collect(engine="streaming").to_series(),
                             import_id=pl.lit(import_id))
    rows.write_parquet(out, compression="lz4", statistics=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
