"""Spreadsheets (.xlsx/.xls): telling one from its magic bytes and reading its first sheet as
all-string cells, shared by detection (registry), the bank profiles and `ledger formats new`.

Cells are read with fastexcel (calamine), not polars.read_excel, which drops empty rows:
keeping them makes a row's number its sheet row. Every sheet is first checked against the
limits of importers/sheet_limits.py, so a zip bomb is refused before it is unpacked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importers.raw_files import SCAN_LINES, RawFile

if TYPE_CHECKING:
    import polars as pl

SHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
"""XLSX (a zip) and XLS (OLE2) files start with these bytes."""


def is_sheet(raw: RawFile) -> bool:
    return raw.data.startswith(SHEET_MAGIC)


_SHEET_HEADS: dict[str, list[list[str]]] = {}


def sheet_head(raw: RawFile) -> list[list[str]]:
    """The first sheet rows of a spreadsheet as strings ('' for empty); [] if unreadable.

    Memoised per file (by sha256) because every profile asks.
    """
    if raw.sha256 not in _SHEET_HEADS:
        from importers.sheet_limits import check_raw

        check_raw(raw)  # a sheet over the limits is an error naming the limit
        try:
            grid = read_sheet(raw.data, n_rows=SCAN_LINES)
            rows = [[c or "" for c in row] for row in grid.rows()]
        except BaseException as exc:  # any reader failure means "not a sheet we know"
            reader_failed(exc)
            rows = []
        if len(_SHEET_HEADS) > 16:
            _SHEET_HEADS.clear()
        _SHEET_HEADS[raw.sha256] = rows
    return _SHEET_HEADS[raw.sha256]


def reader_failed(exc: BaseException) -> str:
    """The first line of what fastexcel raised: its own errors, or pyo3's PanicException (a
    BaseException, so `except Exception` misses it) where the Rust side panics. A Ctrl-C or
    an exit goes on up."""
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        raise exc
    return (str(exc) or type(exc).__name__).splitlines()[0]


def read_sheet(data: bytes, n_rows: int | None = None) -> pl.DataFrame:
    """First sheet as all-string cells, one row per sheet row from row 1 (empty rows kept)."""
    import fastexcel

    reader = fastexcel.read_excel(data)
    sheet = reader.load_sheet(0, header_row=None, dtypes="string", skip_rows=0, n_rows=n_rows,
                              whitespace_as_null=True)
    return sheet.to_polars()
