"""The running balances the exports printed (Wise, Payoneer, PayPal, Upwork, banks...), which
the importers check row by row but the canonical rows do not keep: read again from the
archived originals for the journals' balance assertions.

The balances are end-of-day figures once they are in a journal (beancount asserts at the start
of a day, and rows of one day have no order the tools agree on), so `checkpoints` keeps per
account, currency and day the balance after the day's last row, and `assertable` keeps those
the journal's own rows reproduce from one opening balance. Those that do not (a file missing
between two others) are counted, never asserted wrongly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from ledger.store.directory import Ledger


@dataclass(frozen=True)
class Checkpoint:
    account: str
    """The ledger's account (`wise`, `bank:meezan`)."""
    currency: str
    date: dt.date
    balance: Decimal
    """What the export said the balance was after its last row of `date`."""
    file: str
    line: int


def printed(ledger: Ledger) -> tuple[pl.DataFrame, list[str]]:
    """(import_id, line, balance, currency) for every row whose export printed a balance, and
    a note per archived source that could not be read again (its balances are left out)."""
    import polars as pl

    from importers import registry
    from importers.base import BALANCES, ImportOptions
    from ledger.core.errors import DataError
    from ledger.store.importing import archived_profile

    frames: list[pl.DataFrame] = []
    notes: list[str] = []
    for entry in ledger.active_imports():
        archived = ledger.root / entry["archived"]
        collected: list[pl.DataFrame] = []
        token = BALANCES.set(collected)
        try:
            raw = registry.read(archived)
            raw.path = Path(entry["file"])
            registry.parse(raw, ImportOptions.from_dict(entry.get("options", {})),
                           entry.get("source_option"), profile_dirs=[ledger.root / "profiles"],
                           fmt=archived_profile(ledger, entry))
        except (DataError, OSError) as exc:
            notes.append(f"{entry['file']}: its running balance could not be read again ({exc})")
            continue
        finally:
            BALANCES.reset(token)
        frames += [f.with_columns(pl.lit(entry["import_id"]).alias("import_id")) for f in collected]
    schema = {"import_id": pl.String, "line": pl.Int64, "balance": pl.Decimal(38, 4),
              "currency": pl.String}
    if not frames:
        return pl.DataFrame(schema=schema), notes
    out = pl.concat([f.select("import_id", pl.col("_line").cast(pl.Int64).alias("line"),
                              "balance", "currency") for f in frames], how="vertical_relaxed")
    return out.cast(schema).unique(["import_id", "line"], keep="last", maintain_order=True), notes


def checkpoints(rows: pl.DataFrame, balances: pl.DataFrame,
                files: dict[str, str]) -> list[Checkpoint]:
    """Per account, currency and day, the printed balance after the day's last printed row.

    `rows` are the ledger's stored rows (all of them): a printed balance belongs to the rows
    of its file and line; the day's last is the one furthest along the file's own order
    (lines ascending, or descending where the file is newest first)."""
    import polars as pl

    if balances.is_empty():
        return []
    joined = rows.select("import_id", "line", "account", "date",
                         pl.col("currency").alias("row_currency")).unique(
        ["import_id", "line", "row_currency"]).join(balances, on=["import_id", "line"])
    joined = joined.filter(pl.col("currency").is_null()
                           | (pl.col("currency") == pl.col("row_currency")))
    if joined.is_empty():
        return []
    # a file is newest first if its later lines have earlier dates
    order = joined.group_by("import_id").agg(
        (pl.col("date").sort_by("line").first() > pl.col("date").sort_by("line").last())
        .alias("newest_first"))
    joined = joined.join(order, on="import_id").with_columns(
        pl.when(pl.col("newest_first")).then(-pl.col("line")).otherwise(pl.col("line"))
        .alias("_along"))
    last = joined.sort("_along").group_by(
        "import_id", "account", "row_currency", "date", maintain_order=True).last()
    return [Checkpoint(r["account"], r["row_currency"], r["date"], Decimal(r["balance"]),
                       files.get(r["import_id"], r["import_id"][:12]), int(r["line"]))
            for r in last.sort("date", "import_id").iter_rows(named=True)]


def assertable(points: list[Checkpoint], moved: dict[tuple[str, str], list[tuple[dt.date,
               Decimal]]]) -> tuple[list[Checkpoint], dict[tuple[str, str], Decimal], int]:
    """The checkpoints the journal reproduces, the opening balance each (account, currency)
    needs for them, and how many checkpoints it cannot reproduce.

    `moved`: per (account, currency) the journal's net change per day, in date order. Each
    checkpoint implies an opening balance (its balance minus everything the journal moved up
    to its day); the earliest checkpoint's wins, and a checkpoint implying another one is
    dropped (rows between two files are missing, or a file repeats another's days)."""
    by_key: dict[tuple[str, str], list[Checkpoint]] = {}
    for p in points:
        by_key.setdefault((p.account, p.currency), []).append(p)
    kept: list[Checkpoint] = []
    openings: dict[tuple[str, str], Decimal] = {}
    dropped = 0
    for key, items in by_key.items():
        days = moved.get(key, [])
        seen: dict[dt.date, Decimal] = {}
        running, i = Decimal(0), 0
        for p in sorted(items, key=lambda c: c.date):
            while i < len(days) and days[i][0] <= p.date:
                running += days[i][1]
                i += 1
            implied = p.balance - running
            if p.date in seen:
                dropped += 1
                continue
            if key not in openings:
                openings[key] = implied
            if implied == openings[key]:
                kept.append(p)
                seen[p.date] = p.balance
            else:
                dropped += 1
    kept.sort(key=lambda c: (c.date, c.account, c.currency))
    return kept, openings, dropped
