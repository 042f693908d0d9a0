"""What keeps a large import's memory down must not change what it stores (issue 23): the
export's bytes released once parsed (and read again only unchanged), the ledger sorted a
column at a time, ids hashed without holding the keys, a bank's key left an expression."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import polars as pl
import pytest

from importers import csv_parts, raw_files, readers, registry
from importers.bank_columns import row_key
from importers.base import ImportOptions, Parsed
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
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
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
    copy = raw_files.RawFile(path=path, data=b"x" * 100, sha256=raw.sha256)
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
    keys = rows.select(row_key(rows).expr().alias("k"))["k"].to_list()
    assert keys == [f"{day}|1.5000|USD|Fee|R1|10.0000|0|0",
                    f"{day}|1.5000|USD|Fee|R2|11.0000|0|0",
                    f"{day}|1.5000|USD|Fee|R1|10.0000|0|1"]  # the second R1 row: #1
    unique = rows.head(2)
    keys = unique.select(row_key(unique).expr().alias("k"))["k"].to_list()
    assert keys == [f"{day}|1.5000|USD|Fee|R1|10.0000|0|0",
                    f"{day}|1.5000|USD|Fee|R2|11.0000|0|0"]


@pytest.mark.parametrize("balances", [
    ["10", "11", "10", "12", None, None],  # a repeated row, a repeated balance, no balance
    ["10", "11", "12", "13", "14", "15"],  # no balance repeats: nothing hashed
    ["10", "10", "10", "10", "10", "10"],  # every balance repeats: every key hashed
])
def test_a_banks_repeated_keys_are_found_through_the_balance_as_through_every_key(balances):
    """`_repeated` hashes only the keys of rows whose balance repeats: the same rows as
    hashing every key (the fast path must never differ from the slow one)."""
    from importers.bank_columns import _repeated

    rows = _rows(["R1", "R2", "R1", "R3", "R4", "R4"]).with_columns(
        balance=pl.Series([b and Decimal(b) for b in balances], dtype=pl.Decimal(38, 4)),
        _part=pl.lit(0, pl.Int32))
    key = pl.concat_str([pl.col(c).cast(pl.String).fill_null("")
                         for c in ("ref", "balance", "_part")], separator="|")
    every = rows.select(key.hash())["ref"].is_duplicated()
    assert _repeated(rows, key).to_list() == every.to_list()



def test_a_large_tables_line_numbers_follow_polars_chunks(tmp_path, monkeypatch):
    """polars reads a large CSV in chunks; each row's `_line` is still its own line, the table
    comes out in one chunk, and an error deep in the file names its line."""
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
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


def _parsed(rows: pl.DataFrame) -> Parsed:
    return Parsed(rows=schema.with_ids(rows.with_columns(
        origin=pl.lit("source"), import_id=pl.lit("f" * 64), line=pl.lit(2, pl.Int64),
        kind=pl.lit("earning"))).pipe(schema.conform), format="upwork", rows_read=rows.height)


def test_merge_of_several_files_counts_each_ones_duplicates_once():
    """The last file's ids are not added to those looked up (no file follows); the earlier
    ones' still are: a row of file 1 in files 2 and 3 is a duplicate in both."""
    existing = _parsed(_rows(["A"])).rows
    files = [_parsed(_rows(keys)) for keys in (["A", "B"], ["B", "C"], ["C", "D", "A"])]
    combined, summaries = importing.merge(existing, [(UPWORK, b"", p) for p in files])
    assert [(s.added, s.duplicates) for s in summaries] == [(1, 1), (1, 1), (1, 2)]
    assert sorted(combined["id"].to_list()) == sorted(_id("upwork", "upwork", k)
                                                      for k in "ABCD")
    nothing, [summary] = importing.merge(schema.empty(), [(UPWORK, b"", _parsed(_rows([])))])
    assert nothing.height == 0 and nothing.schema == schema.empty().schema
    assert summary.added == 0


def test_sorted_by_date_keeps_columns_of_one_repeated_value():
    days = [dt.date(2024, 1, d) for d in (3, 1, 2)]
    df = pl.DataFrame({"date": days, "n": [0, 1, 2]}).with_columns(
        source=pl.lit("paypal"), hours=pl.lit(None, pl.Float64))
    out = importing.sorted_by_date(df)
    assert out.columns == ["date", "n", "source", "hours"]
    assert out["n"].to_list() == [1, 2, 0]
    assert out["source"].to_list() == ["paypal"] * 3
    assert out["hours"].to_list() == [None] * 3 and out.schema["hours"] == pl.Float64


def _table_text() -> str:
    rows = [f'{n},"desc {n}",{n}.50' for n in range(2, 3000)]
    rows[100] = ""  # a blank line: no row, the next keeps its line number
    rows[200] = ",,"  # an empty row: dropped
    rows[300] = '302,"two\nlines",1.00'  # a quoted line break: parts are cut around it
    return "Line,Description,Amount\r\n" + "\n".join(rows) + "\n"


def test_a_large_table_read_in_parts_is_the_table_read_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
    path = tmp_path / "table.csv"
    path.write_text(_table_text())
    whole = readers.read_table(registry.read(path)).df
    monkeypatch.setattr(csv_parts, "PART_BYTES", 1000)  # ~40 parts
    body = path.read_bytes()
    assert len(csv_parts.part_cuts(body, 0)) > 30
    table = readers.read_table(registry.read(path))
    assert table.df.equals(whole)
    assert table.df.n_chunks() == 1
    lines = dict(zip(table.df["line"].to_list(), table.df[readers.LINE].to_list(), strict=True))
    assert lines["2"] == 2 and lines["101"] == 101 and lines["250"] == 250
    assert "102" not in lines and "202" not in lines  # the blank line, the empty row
    assert table.df.filter(pl.col("line") == "302")["description"].item() == "two\nlines"
    kept = readers.read_table(registry.read(path), columns={"amount"})
    assert kept.df.columns == ["amount", readers.LINE]
    assert kept.df.equals(whole.select("amount", readers.LINE))
    assert kept.names == table.names  # every header cell still known (messages name them)


def test_a_row_with_too_many_cells_deep_in_a_large_file_names_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(csv_parts, "PART_BYTES", 1000)
    path = tmp_path / "table.csv"
    path.write_text(_table_text().replace('\n2500,"desc 2500",2500.50\n',
                                          '\n2500,"desc 2500",2500.50,extra\n'))
    with pytest.raises(DataError) as caught:
        readers.read_table(registry.read(path), columns={"amount"})
    assert caught.value.line == 2501 and "4 cells, more than the header's 3" in caught.value.message


def test_a_large_windows_1252_file_read_in_parts_keeps_its_columns(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(csv_parts, "PART_BYTES", 1000)
    path = tmp_path / "table.csv"
    path.write_bytes(_table_text().replace('"desc 7"', '"caf\u00e9 7"').encode("cp1252"))
    table = readers.read_table(registry.read(path), columns={"description"})
    assert table.df.columns == ["description", readers.LINE]  # read whole, decoded: as asked
    assert table.df.filter(pl.col(readers.LINE) == 7)["description"].item() == "caf\u00e9 7"
    assert table.df.height == 2996  # 2998 lines, a blank one and an empty row left out


def test_kept_filters_a_column_at_a_time_and_keeps_a_frame_it_needs_not_filter():
    from importers.base import kept

    df = pl.DataFrame({"n": [1, 2, 3, 4], "s": ["a", None, "c", "d"]})
    out = kept(df, pl.col("s").is_not_null() & (pl.col("n") != 4))
    assert out.to_dict(as_series=False) == {"n": [1, 3], "s": ["a", "c"]}
    assert df.width == 0  # its columns were moved out, not copied
    whole = pl.DataFrame({"n": [1, 2]})
    assert kept(whole, pl.col("n") > 0) is whole
    nulls = pl.DataFrame({"n": [1, None]})
    assert kept(nulls, pl.col("n") > 0)["n"].to_list() == [1]  # null: not kept (as filter)


def test_a_large_bank_statements_copy_without_its_footer_is_released_and_read_again(
        tmp_path, monkeypatch):
    """The statement cut of its footer is a copy: released once its table is read, as the
    file's own bytes are; asked for again, it is the same bytes, or refused if the file
    changed."""
    from importers import bank, bank_table

    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)  # this small file counts as large
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(bank_table, "EXACT_SCAN_MAX_BYTES", 64)
    source = DATA / "bank" / "hdfc.csv"
    path = tmp_path / "hdfc.csv"
    path.write_bytes(source.read_bytes())
    profile = bank.load_profile(bank.PROFILES_DIR / "hdfc.toml")
    raw = registry.read(path)
    cut, index, footer = bank_table.csv_body(raw, profile)
    assert footer and cut is not raw
    expected = cut.data
    assert expected == source.read_bytes()[:len(expected)]
    readers.read_table(cut, index)
    assert "data" not in cut.__dict__  # released once read
    assert cut.data == expected  # read again: the same bytes, cut as before
    rows = registry.parse(registry.read(path), ImportOptions()).rows
    assert rows.equals(registry.parse(raw_files.RawFile(
        path=path, data=source.read_bytes(), sha256=raw.sha256), ImportOptions()).rows)
    cut.release()
    path.write_bytes(source.read_bytes().replace(b"UPI", b"UPX", 1))
    with pytest.raises(DataError, match="changed while it was being imported"):
        _ = cut.data


@pytest.mark.parametrize("name", ["payoneer/transactions-17col.csv", "paypal/activity-en.csv",
                                  "upwork/classic.csv", "wise/transaction-history.csv"])
def test_a_large_files_table_read_from_the_file_is_the_table_of_its_bytes(
        tmp_path, monkeypatch, name):
    """A large file's table is read by polars from the file itself, its bytes let go first
    (not held beside the table): the same table, lines and errors as reading the bytes."""
    source = DATA / name
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)  # this small file counts as large
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes())
    raw = registry.read(path)
    from_file = readers.read_table(raw)
    assert "data" not in raw.__dict__  # let go before polars read the file
    in_memory = raw_files.RawFile(path=path, data=source.read_bytes(), sha256=raw.sha256)
    from_bytes = readers.read_table(in_memory)
    assert from_file.df.equals(from_bytes.df) and from_file.df.height > 0
    assert (from_file.header, from_file.names) == (from_bytes.header, from_bytes.names)


def test_a_large_file_changed_before_polars_reads_it_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
    path = tmp_path / "payoneer.csv"
    data = (DATA / "payoneer" / "transactions-17col.csv").read_bytes()
    path.write_bytes(data)
    raw = registry.read(path)
    path.write_bytes(data.replace(b"Payment", b"Paymenx", 1))  # same size, other bytes
    with pytest.raises(DataError, match="changed while it was being imported"):
        readers.read_table(raw)


def test_a_large_files_cut_last_row_is_refused_after_reading_from_the_file(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
    data = (DATA / "payoneer" / "transactions-17col.csv").read_bytes().rstrip(b"\r\n")
    path = tmp_path / "payoneer.csv"
    path.write_bytes(data[:data.rfind(b",")])  # the last row cut short
    lines = path.read_bytes().count(b"\n") + 1
    with pytest.raises(DataError, match=f"payoneer.csv:{lines}:"):
        readers.read_table(registry.read(path))
