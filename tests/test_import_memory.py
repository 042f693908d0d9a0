"""What keeps a large import's memory down must not change what it stores (issue 23): the
export's bytes released once parsed (and read again only unchanged), the ledger sorted a
column at a time, ids hashed without holding the keys, a bank's key left an expression."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import polars as pl
import pytest

from importers import readers, registry
from importers.bank_columns import row_key
from importers.base import ImportOptions
from ledger.core import schema
from ledger.core.errors import DataError
from ledger.store import importing
from tests.conftest import DATA

UPWORK = DATA / "upwork" / "classic.csv"


def _id(source: str, account: str, key: str) -> str:
    return hashlib.sha256(f"{source}\x1f{account}\x1f{key}".encode()).hexdigest()[:32]


def test_a_large_exports_bytes_are_released_once_read_and_read_again_unchanged(
        tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)  # this small file counts as large
    path = tmp_path / "upwork.csv"
    path.write_bytes(UPWORK.read_bytes())
    raw = registry.read(path)
    rows = registry.parse(raw, ImportOptions()).rows
    assert "data" not in raw.__dict__  # released
    assert raw.data == UPWORK.read_bytes()  # read again on demand, the same bytes
    assert rows.height == 13
    raw.release()
    path.write_bytes(UPWORK.read_bytes().replace(b"Hourly", b"Hourlx", 1))
    with pytest.raises(DataError, match="changed while it was being imported"):
        _ = raw.data


def test_small_files_and_derived_copies_keep_their_bytes(tmp_path):
    path = tmp_path / "upwork.csv"
    path.write_bytes(UPWORK.read_bytes())
    raw = registry.read(path)
    registry.parse(raw, ImportOptions())
    assert raw.__dict__["data"] == UPWORK.read_bytes()  # under EXACT_SCAN_MAX_BYTES: kept
    copy = readers.RawFile(path=path, data=b"x" * 100, sha256=raw.sha256)
    copy.release()  # no origin: its bytes cannot be read again, so they stay
    assert copy.data == b"x" * 100


def test_sorted_by_date_is_a_stable_sort_and_leaves_sorted_rows_as_they_are():
    days = [dt.date(2024, 1, d) for d in (3, 1, 2, 1, 3, 2)]
    df = pl.DataFrame({"date": days, "n": [0, 1, 2, 3, 4, 5], "s": list("abcdef")})
    out = importing.sorted_by_date(df.clone())
    assert out["n"].to_list() == [1, 3, 2, 5, 0, 4]  # ties keep their order
    assert out["s"].to_list() == ["b", "d", "c", "f", "a", "e"]
    ordered = out.clone()
    assert importing.sorted_by_date(ordered) is ordered


def test_merge_takes_over_the_rows_and_counts_duplicates(tmp_path):
    raw = registry.read(UPWORK)
    parsed = registry.parse(raw, ImportOptions())
    first = parsed.rows.clone()
    combined, [summary] = importing.merge(schema.empty(), [(UPWORK, raw.data, parsed)])
    assert parsed.rows.height == 0  # the merge took them: held once
    assert summary.added == 13 and summary.duplicates == 0 and summary.rows == 13
    assert combined.sort("id").equals(first.sort("id"))
    again = registry.parse(raw, ImportOptions())
    _, [twice] = importing.merge(combined, [(UPWORK, raw.data, again)])
    assert twice.added == 0 and twice.duplicates == 13


def _rows(keys: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame({
        "source": ["upwork"] * len(keys), "account": ["upwork"] * len(keys),
        "ref": pl.Series(keys, dtype=pl.String),
        "date": [dt.date(2024, 6, 1)] * len(keys),
        "amount": pl.Series([Decimal("1.50")] * len(keys), dtype=pl.Decimal(38, 4)),
        "currency": ["USD"] * len(keys), "description": ["Fee"] * len(keys),
    })


def test_ids_of_keyed_rows_and_of_rows_without_a_key():
    ids = schema.with_ids(_rows(["A1", "B2"]))["id"].to_list()
    assert ids == [_id("upwork", "upwork", "A1"), _id("upwork", "upwork", "B2")]
    # a null key falls back to the content and its n-th occurrence (A1 is the 0th)
    ids = schema.with_ids(_rows(["A1", None, None]))["id"].to_list()
    assert ids == [_id("upwork", "upwork", "A1"),
                   _id("upwork", "upwork", "2024-06-01|1.5000|USD|Fee|1"),
                   _id("upwork", "upwork", "2024-06-01|1.5000|USD|Fee|2")]


def test_a_banks_row_key_numbers_repeated_content_only():
    rows = _rows(["R1", "R2", "R1"]).with_columns(
        balance=pl.Series([Decimal("10"), Decimal("11"), Decimal("10")],
                          dtype=pl.Decimal(38, 4)), _part=pl.lit(0, pl.Int32))
    day = (dt.date(2024, 6, 1) - dt.date(1970, 1, 1)).days
    keys = rows.select(row_key(rows).alias("k"))["k"].to_list()
    assert keys == [f"{day}|1.5000|USD|Fee|R1|10.0000|0|0",
                    f"{day}|1.5000|USD|Fee|R2|11.0000|0|0",
                    f"{day}|1.5000|USD|Fee|R1|10.0000|0|1"]  # the second R1 row: #1
    unique = rows.head(2)
    keys = unique.select(row_key(unique).alias("k"))["k"].to_list()
    assert keys == [f"{day}|1.5000|USD|Fee|R1|10.0000|0|0",
                    f"{day}|1.5000|USD|Fee|R2|11.0000|0|0"]



def test_a_large_tables_line_numbers_follow_polars_chunks(tmp_path, monkeypatch):
    """polars reads a large CSV in chunks; each row's `_line` is still its own line, the table
    comes out in one chunk, and an error deep in the file names its line."""
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    count = 50_000
    text = "Line,Amount\n" + "".join(f"{n},1.00\n" for n in range(2, count + 2))
    assert pl.read_csv(text.encode(), infer_schema=False).n_chunks() > 1  # the path tested
    path = tmp_path / "table.csv"
    path.write_text(text)
    table = readers.read_table(registry.read(path))
    assert table.df.n_chunks() == 1
    assert table.df[readers.LINE].to_list() == list(range(2, count + 2))
    assert table.df["line"].cast(pl.Int64).to_list() == list(range(2, count + 2))
    from importers.base import parse_money

    bad = text.replace("\n40000,1.00\n", "\n40000,1.0x\n")
    path.write_text(bad)
    table = readers.read_table(registry.read(path))
    with pytest.raises(DataError) as caught:
        parse_money(table.df, pl.col("amount"), path=path, what="Amount")
    assert caught.value.line == 40000 and "'1.0x' is not a number" in caught.value.message
