"""A large bank statement cut before its footer is read by polars from the file itself, as
many records as the cut has lines, its bytes let go first (issue 23: the copy held beside
polars' table was a file's size of peak memory): the same table, lines and errors as
reading the cut bytes, which is what it falls back to where a record spans lines or what
follows the cut is not CSV polars reads."""

from __future__ import annotations

import polars as pl
import pytest

from importers import bank, bank_table, raw_files, readers, registry
from importers.base import ImportOptions
from ledger.core.errors import DataError
from tests.conftest import DATA

HDFC = (DATA / "bank" / "hdfc.csv").read_bytes()


@pytest.fixture
def large(monkeypatch):
    """Every file counts as large: read from the file, its bytes released."""
    for module in (readers, raw_files, bank_table):
        monkeypatch.setattr(module, "EXACT_SCAN_MAX_BYTES", 64)


@pytest.fixture
def reads(monkeypatch):
    """What polars was asked to read, and whether `n_rows` limited it."""
    seen: list[tuple[object, int | None]] = []
    real = pl.read_csv

    def read_csv(source, **options):
        seen.append((source, options.get("n_rows")))
        return real(source, **options)

    monkeypatch.setattr(pl, "read_csv", read_csv)
    return seen


def _tables(path):
    """(the table read as an import reads it, the table of the cut bytes held in memory)."""
    profile = bank.load_profile(bank.PROFILES_DIR / "hdfc.toml")
    cut, index, footer = bank_table.csv_body(registry.read(path), profile)
    assert footer and cut.length is not None
    in_memory = raw_files.RawFile(path=path, data=cut.data, sha256=cut.sha256)
    cut.release()
    return readers.read_table(cut, index), readers.read_table(in_memory, index), cut


def test_the_cut_statement_is_read_from_the_file_as_from_its_bytes(tmp_path, large, reads):
    path = tmp_path / "hdfc.csv"
    path.write_bytes(HDFC)
    from_file, from_bytes, cut = _tables(path)
    assert reads[0] == (path, 9)  # the file itself, as many records as the cut has lines
    assert "data" not in cut.__dict__
    assert from_file.df.equals(from_bytes.df) and from_file.df.height == 9
    assert from_file.df[readers.LINE].to_list() == list(range(9, 18))
    rows = registry.parse(registry.read(path), ImportOptions()).rows
    assert rows.equals(registry.parse(raw_files.RawFile(
        path=path, data=HDFC, sha256=registry.read(path).sha256), ImportOptions()).rows)


def test_a_record_spanning_lines_falls_back_to_the_cut_bytes(tmp_path, large, reads):
    # a quoted line break: the cut's lines are one more than its records, so polars would
    # read the footer's first line as a row
    path = tmp_path / "hdfc.csv"
    path.write_bytes(HDFC.replace(b"GST ON SMS CHARGES", b'"GST ON SMS\nCHARGES"', 1)
                     .replace(b'1,845.80"\n,,,,,,\n', b'1,845.80"\n', 1))  # footer: no blank row
    from_file, from_bytes, _ = _tables(path)
    assert reads[0][0] == path and reads[-1][0] != path  # tried the file, then the bytes
    assert from_file.df.equals(from_bytes.df) and from_file.df.height == 9


def test_a_footer_polars_refuses_falls_back_to_the_cut_bytes(tmp_path, large):
    path = tmp_path / "hdfc.csv"
    path.write_bytes(HDFC.replace(b"Generated On: 01/05/2024 10:15,,,,,,",
                                  b"Generated On: 01/05/2024 10:15,,,,,,,,,,,,"))
    from_file, from_bytes, _ = _tables(path)
    assert from_file.df.equals(from_bytes.df) and from_file.df.height == 9


def test_a_cut_statements_short_last_row_and_a_changed_file_are_refused(tmp_path, large):
    path = tmp_path / "hdfc.csv"
    path.write_bytes(HDFC.replace(b',"20,000.00","1,71,845.80"', b"", 1))
    with pytest.raises(DataError, match=r"hdfc\.csv:17: row has 5 cells"):
        registry.parse(registry.read(path), ImportOptions())
    path.write_bytes(HDFC)
    raw = registry.read(path)
    path.write_bytes(HDFC.replace(b"UPI", b"UPX", 1))
    with pytest.raises(DataError, match="changed while it was being imported"):
        registry.parse(raw, ImportOptions())
