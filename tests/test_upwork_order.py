"""Upwork's rows in the ledger's order (importers/upwork.py `_in_ledger_order`: a large
export's rows sorted by date as the store sorts them, each column copied once) are the rows
in file order sorted by the store (`sorted_by_date`): the same rows, ids, errors and
warnings, whether the export is newest first (its days' runs backwards), in no order, or
one the fast path leaves alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from importers import csv_parts, raw_files, readers, registry, upwork
from importers.base import ImportOptions
from ledger.store.importing import sorted_by_date

DATA = Path(__file__).parent / "data"
OPTIONS = ImportOptions(today=dt.date(2030, 1, 1))


@pytest.fixture(autouse=True)
def _large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small files read as large ones: in parts (columns in pieces), rows put in order."""
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(csv_parts, "PART_BYTES", 4096)
    monkeypatch.setattr(upwork, "ORDERED_ROWS", 2)


def _both(path: Path, monkeypatch: pytest.MonkeyPatch):
    """(registry.parse of `path`, the same with rows left in file order): each Parsed or
    the exception raised."""
    def parsed():
        try:
            return registry.parse(registry.read(path), OPTIONS)
        except Exception as exc:  # compared below
            return exc

    fast = parsed()
    with monkeypatch.context() as patch:
        patch.setattr(upwork, "ORDERED_ROWS", 10**12)
        slow = parsed()
    return fast, slow


def _same(fast, slow) -> pl.DataFrame:
    if isinstance(slow, BaseException):
        assert type(fast) is type(slow) and str(fast) == str(slow)
        return pl.DataFrame()
    assert not isinstance(fast, BaseException), fast
    assert (fast.rows_read, fast.skipped, fast.warnings, fast.ids_distinct) == \
        (slow.rows_read, slow.skipped, slow.warnings, slow.ids_distinct)
    expected = sorted_by_date(slow.rows.clone())
    assert fast.rows.schema == expected.schema and fast.rows.equals(expected)
    assert sorted_by_date(fast.rows.clone()).equals(fast.rows)  # the store moves none
    return fast.rows


def _export(tmp_path: Path, rows: int = 3000, days: int = 30) -> Path:
    from bench.generate import write_upwork

    return write_upwork(tmp_path / "upwork.csv", rows, days=days)


def test_a_newest_first_export_is_its_days_backwards(tmp_path, monkeypatch):
    path = _export(tmp_path)
    ran = []
    runs = csv_parts.newest_first_runs
    monkeypatch.setattr(upwork, "newest_first_runs", lambda d: ran.append(1) or runs(d))
    fast, slow = _both(path, monkeypatch)
    rows = _same(fast, slow)
    assert ran and rows.height == 3000 and not slow.rows["date"].is_sorted()
    assert rows["line"].to_list()[:3] != slow.rows["line"].to_list()[:3]  # moved


@pytest.mark.parametrize("shuffled", [40, 2900])
def test_an_export_in_no_order_is_sorted_as_the_store_sorts(tmp_path, monkeypatch, shuffled):
    """Dates moved about in the middle (the balances still follow, newest first by the first
    and last dates): sorted by runs of rows, or row by row where they are too short."""
    import random

    path = _export(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    rng = random.Random(shuffled)
    days = [line.split('"')[1] for line in lines[1:]]
    for index in rng.sample(range(2, len(lines) - 1), shuffled):
        lines[index] = lines[index].replace(days[index - 1], rng.choice(days), 1)
    path.write_text("".join(lines))
    fast, slow = _both(path, monkeypatch)
    _same(fast, slow)


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "upwork").glob("*.csv")))
def test_the_golden_exports(name, monkeypatch):
    _same(*_both(DATA / "upwork" / name, monkeypatch))


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "broken").iterdir()
                                        if "upwork" in p.name))
def test_the_broken_exports_give_the_same_errors(name, monkeypatch):
    _same(*_both(DATA / "broken" / name, monkeypatch))


def test_rows_whose_ids_depend_on_their_order_keep_the_files(tmp_path, monkeypatch):
    """A ref given twice, on two days: no key proven distinct, the rows stay in file order
    (the shared id is reported at the first of its rows in the file, not in date order)."""
    path = _export(tmp_path, rows=400)
    lines = path.read_text().splitlines(keepends=True)
    ref = lines[1].split(",")[2]
    lines[300] = lines[300].replace(lines[300].split(",")[2], ref, 1)
    path.write_text("".join(lines))
    fast, slow = _both(path, monkeypatch)
    assert isinstance(slow, Exception) and slow.line == 2
    _same(fast, slow)


def test_an_amount_finalize_refuses_is_reported_at_the_same_line(tmp_path, monkeypatch):
    """Two amounts too large, on different days, their balances following: the first in
    the file is reported (sorted by date first, it would be the other)."""
    header = ("Date,Ref ID,Type,Description,Agency,Freelancer,Team,Account Name,PO,Amount,"
              "Amount in local currency,Currency,Balance\n")
    rows = [("Jun 3, 2024", 4, "10000000000000000.00", "20000000000000002.00"),
            ("Jun 2, 2024", 3, "1.00", "10000000000000002.00"),
            ("Jun 1, 2024", 2, "10000000000000000.00", "10000000000000001.00"),
            ("Jun 1, 2024", 1, "1.00", "1.00")]
    path = tmp_path / "huge.csv"
    path.write_text(header + "".join(f'"{day}",{ref},Bonus,Bonus,,,,Jane,,{amount},,,'
                                     f"{balance}\n" for day, ref, amount, balance in rows))
    fast, slow = _both(path, monkeypatch)
    assert isinstance(slow, Exception) and ":2:" in f"{slow.path}:{slow.line}:"
    _same(fast, slow)
