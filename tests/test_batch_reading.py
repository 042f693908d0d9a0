"""ledger/batch/reading.py: a chunk's tables read in one polars read give each file exactly
`read_table`'s table, and leave to `read_table` every file where they might not."""

from __future__ import annotations

from pathlib import Path

import pytest

from importers import registry
from importers.base import ImportOptions
from importers.raw_files import RawFile
from importers.readers import read_table
from ledger.batch.reading import read_tables, tables_reading

DATA = Path(__file__).parent / "data"
HEADER = b"Date,Name,Gross,Currency\n"


def raw(name: str, data: bytes) -> RawFile:
    return RawFile(path=Path(name), data=data, sha256=name)


def same(got, want) -> bool:
    return (got.df.schema == want.df.schema and got.df.equals(want.df)
            and got.header == want.header and got.names == want.names
            and got.delimiter == want.delimiter and got.path == want.path)


def test_files_with_one_header_are_read_together_as_read_table_reads_each():
    files = [
        raw("plain.csv", HEADER + b"2024-01-02,Acme,10.00,USD\n2024-01-03,Beta,-2.50,USD\n"),
        raw("quoted.csv", HEADER + b'"2024-02-01","Acme, Inc","1,000.00","USD"\n'
            b'"2024-02-02","","5.00","USD"\n'),  # every cell quoted: counted, not matched
        raw("mixed.csv", HEADER + b'"Feb 3, 2024",Acme,"",USD\n,,,\n2024-02-04,"B",1.00,EUR'),
        raw("crlf.csv", HEADER.replace(b"\n", b"\r\n") + b"2024-03-01,Acme,3.00,USD\r\n"),
    ]
    got = read_tables(files, [0] * len(files))
    assert all(t is not None for t in got)
    for one, table in zip(files, got, strict=True):
        assert same(table, read_table(one, 0)), one.path
    # the blank row is dropped and the next keeps its own line number
    assert got[2].df["_line"].to_list() == [2, 4]
    assert got[2].df["name"].to_list() == ["Acme", "B"]


def test_files_that_might_read_otherwise_are_left_to_read_table():
    good = raw("good.csv", HEADER + b"2024-01-02,Acme,10.00,USD\n")
    left = [
        raw("short.csv", HEADER + b"2024-01-02,Acme,10.00\n"),  # a cell short: read_table refuses
        raw("break.csv", HEADER + b'2024-01-02,"Acme\nInc",10.00,USD\n'),  # a quoted line break
        raw("blank.csv", HEADER + b"2024-01-02,Acme,10.00,USD\n\n2024-01-03,B,1.00,USD\n"),
        raw("inner.csv", HEADER + b'2024-01-02,Ac"me,10.00,USD\n'),  # a quote inside a cell
        raw("bom.csv", b"\xef\xbb\xbf" + HEADER + b"2024-01-02,Acme,10.00,USD\n"),
        raw("cr.csv", HEADER + b"2024-01-02,Acme\r,10.00,USD\n"),  # a bare CR
        raw("empty.csv", HEADER),  # no body
    ]
    other = raw("other.csv", b"When,Amount\n2024-01-02,1.00\n")  # no other file has its header
    files = [good, good, *left, other]
    got = read_tables(files, [0] * len(files))
    assert [t is not None for t in got] == [True, True] + [False] * (len(left) + 1)
    with pytest.raises(Exception, match="fewer than the header"):
        read_table(left[0], 0)


def test_a_header_further_down_and_blank_trailing_header_cells():
    head = b"Statement of account,,\nHolder,,\n"
    header = b"Date,Amount,,\n"  # two blank header cells: rows may stop at the named ones
    files = [raw(f"{n}.csv", head + header + body) for n, body in (
        ("a", b"01/01/24,1.00\n02/01/24,2.00\n"), ("b", b"03/01/24,3.00\n"),
        ("c", b"03/01/24,3.00,,\n"),  # the blank cells written out: read_table's to read
        ("d", b"03/01/24\n"))]  # a cell short of the named ones: read_table refuses it
    got = read_tables(files, [2, 2, 2, 2])
    assert [t is not None for t in got] == [True, True, False, False]
    for one, table in zip(files[:2], got[:2], strict=True):
        assert same(table, read_table(one, 2))
    assert got[0].df["_line"].to_list() == [4, 5]


@pytest.mark.parametrize("name", ["upwork", "payoneer", "paypal", "bank"])
def test_rows_many_with_chunk_reading_equals_parse_file_by_file(name, monkeypatch):
    """The importers' golden and broken exports (tests/test_stacked.py's), read as a chunk."""
    monkeypatch.setattr("importers.upwork._today",
                        lambda: __import__("datetime").date(2026, 1, 1))
    files = sorted((DATA / name).glob("*.csv")) + sorted((DATA / name).glob("*.CSV"))
    files += sorted(p for p in (DATA / "broken").iterdir() if name in p.name)
    raws = [registry.read(p) for p in files + files]
    options = ImportOptions()
    with tables_reading():
        many = registry.rows_many(raws, options)
    read = 0
    for one_raw, got in zip(raws, many, strict=True):
        try:
            one = registry.parse(one_raw, options).rows
        except Exception as exc:
            assert type(got) is type(exc) and str(got) == str(exc), one_raw.path
            continue
        assert not isinstance(got, BaseException), (one_raw.path, got)
        assert got.schema == one.schema and got.equals(one), one_raw.path
        read += 1
    assert read >= 4
