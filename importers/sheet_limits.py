"""Limits a spreadsheet must meet before fastexcel (calamine) may read it.

calamine sizes its grid from the sheet's extent: a 2.6 KB XLSX with one cell at XFD1048576
(16,384 columns x 1,048,576 rows) makes it allocate 17 billion cells and the process aborts
(exit 134) where no exception can be caught, taking a whole `ledger batch` with it. An XLSX is
a zip, so 1 MB can also expand to 1 GB, or hold a 300 MB string. So before any read,
`check_xlsx` walks the zip with the standard library: every member's uncompressed size (as
declared, and as actually inflated: a header can lie), the sheet's `<dimension ref=...>`, the
position of every cell present, their count and the longest text. Streaming in 1 MiB pieces,
it holds little memory whatever the file; a genuine statement passes in well under a second.

XLS (OLE2) files have no such structure to check; they are bounded by MAX_XLS_BYTES.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from importers.raw_files import RawFile, size_text
from ledger.core.errors import DataError

MAX_UNPACKED_BYTES = 256 * 1024 * 1024
"""All of an XLSX's parts, uncompressed (a 100,000-row statement is ~50 MB)."""
MAX_COLUMNS = 1_000
"""Columns a sheet may span (statements have under 30; Excel's own limit is 16,384)."""
MAX_GRID_CELLS = 5_000_000
"""Rows x columns of a sheet's extent: the grid calamine allocates."""
MAX_TEXT_BYTES = 128 * 1024
"""Text between two XML tags: refused from this length (always from 1.5 times it); Excel
holds at most 32,767 characters in a cell."""
MAX_XLS_BYTES = 64 * 1024 * 1024
"""An XLS (OLE2) file, which cannot be checked part by part."""

CHUNK = 1024 * 1024
_WINDOW = MAX_TEXT_BYTES // 2
_OVERLAP = 64
_COLUMN = re.compile(rb'\sr="([A-Za-z]{1,8})\d')
"""A cell's column in its position attribute (`<c r="B7"`)."""
_ROW = re.compile(rb'\sr="[A-Za-z]{0,8}(\d{1,12})"')
"""A cell's or row's row in its position attribute (`<c r="B7"`, `<row r="7"`)."""
_CELL_MARKS = (b"<c ", b"<c>", b"<c/", b"<c\t", b"<c\n", b"<c\r")
"""How a cell element starts (`<col`, `<cfRule`... are not cells)."""
_DIMENSION = re.compile(rb'<dimension\s+ref="([^"]{1,40})"')
_RANGE_END = re.compile(r"([A-Za-z]{0,8})(\d{0,12})$")

DAMAGED = ("open it in a spreadsheet program and save it again as .xlsx, or export the "
           "statement as CSV")
HINT = ("open it in a spreadsheet program, delete what lies beyond the statement's table and "
        "save it again, or export the statement as CSV")


@dataclass
class _Extent:
    rows: int = 0
    columns: int = 0
    cells: int = 0
    rows_seen: int = 0
    """`<row>` elements: rows without an `r` count on from the one before."""

    def add(self, letters: bytes | str, digits: bytes | str) -> None:
        if digits:
            self.rows = max(self.rows, int(digits))
        if letters:
            self.columns = max(self.columns, _column_number(letters))


def _column_number(letters: bytes | str) -> int:
    text = letters.decode("ascii") if isinstance(letters, bytes) else letters
    number = 0
    for char in text.upper():
        number = number * 26 + ord(char) - 64
    return number


_CHECKED: dict[str, DataError | None] = {}


def check_raw(raw: RawFile) -> None:
    """`check_sheet` once per file (by sha256): every bank profile's detection asks."""
    if raw.sha256 not in _CHECKED:
        if len(_CHECKED) > 64:
            _CHECKED.clear()
        try:
            check_sheet(raw.data, raw.path)
            _CHECKED[raw.sha256] = None
        except DataError as exc:
            _CHECKED[raw.sha256] = exc
    found = _CHECKED[raw.sha256]
    if found is not None:
        raise DataError(found.message, path=raw.path, hint=found.hint)


def check_sheet(data: bytes, path: Path | str) -> None:
    """Raise a DataError naming the limit if the spreadsheet `data` exceeds one."""
    if data.startswith(b"PK\x03\x04"):
        check_xlsx(data, path)
    elif len(data) > MAX_XLS_BYTES:
        raise DataError(f"the spreadsheet is too large: {size_text(len(data))}, more than the "
                        f"{size_text(MAX_XLS_BYTES)} ledger reads from an .xls file",
                        path=path, hint=HINT)


def check_xlsx(data: bytes, path: Path | str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise DataError("cannot read as a spreadsheet: the zip container is damaged",
                        path=path, hint=DAMAGED) from None
    declared = sum(m.file_size for m in members)
    if declared > MAX_UNPACKED_BYTES:
        raise _unpacked(path, declared)
    unpacked = 0
    for member in members:
        xml = member.filename.startswith("xl/worksheets/") or member.filename in (
            "xl/sharedStrings.xml",)
        extent = _Extent()
        try:
            with archive.open(member) as stream:
                unpacked = _scan(stream, xml, extent, unpacked, path,
                                 member.filename.startswith("xl/worksheets/"))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
                NotImplementedError, RuntimeError):  # damaged, encrypted or lying about size
            raise DataError("cannot read as a spreadsheet: a part of the zip is damaged",
                            path=path, hint=DAMAGED) from None
        _check_extent(extent, path)


def _scan(stream: io.BufferedIOBase, xml: bool, extent: _Extent, unpacked: int,
          path: Path | str, sheet: bool) -> int:
    """Read one member to its end, counting bytes; in XML, look for a long text; in sheet
    XML, note the dimension, cell positions, cells per row and rows. Returns the total.

    calamine places a cell or row without an `r` position after the one before it, so the
    extent is bounded by positions and by counts both: rows by the highest `r` and the number
    of `<row>` elements, columns by the furthest column letter and the most cells in one row
    (a file mixing numbered and unnumbered ones reaches at most twice that). Each piece is
    looked at with the last _OVERLAP bytes of the one before, so nothing spanning two pieces
    is missed (a position seen twice changes no maximum); counts count where things start."""
    tail = b""
    empty = 0  # consecutive text windows without a "<"
    row_cells = 0  # cells so far in the row that the last piece ended in
    while True:
        piece = stream.read(CHUNK)
        unpacked += len(piece)
        if unpacked > MAX_UNPACKED_BYTES:
            raise _unpacked(path, None)
        if not piece:
            return unpacked
        if not xml:
            continue
        empty = _long_text(piece, empty, path)
        if sheet:
            buffer = tail + piece
            fresh = buffer[max(len(tail) - 4, 0):]  # where an element may start anew
            segments = fresh.split(b"<row")
            extent.rows_seen += len(segments) - 1
            for index, segment in enumerate(segments):
                cells = sum(segment.count(mark) for mark in _CELL_MARKS)
                row_cells = row_cells + cells if index == 0 else cells
                extent.cells += cells
                extent.columns = max(extent.columns, row_cells)
            for letters in set(_COLUMN.findall(buffer)):
                extent.add(letters, b"")
            rows = _ROW.findall(buffer)
            if rows:
                extent.rows = max(extent.rows, max(map(int, rows)))
            for match in _DIMENSION.finditer(buffer):
                end = _RANGE_END.search(match[1].decode("latin-1"))
                if end:
                    extent.add(end[1], end[2])
            _check_extent(extent, path)
            tail = buffer[-_OVERLAP:]


def _long_text(piece: bytes, empty: int, path: Path | str) -> int:
    """Windows of _WINDOW bytes (aligned from the member's start: pieces are whole windows
    but the last) without a "<": two in a row are a text of at least MAX_TEXT_BYTES. A text
    of 1.5 x MAX_TEXT_BYTES is always caught, one under MAX_TEXT_BYTES never. C-speed finds,
    where splitting on "<" cost a second per 35 MB sheet."""
    for start in range(0, len(piece), _WINDOW):
        if piece.find(b"<", start, start + _WINDOW) >= 0:
            empty = 0
            continue
        empty += 1
        if empty >= 2:
            raise DataError(f"the spreadsheet is too large: it holds a text of "
                            f"{size_text(MAX_TEXT_BYTES)} or more (a cell holds at most "
                            "32,767 characters)", path=path, hint=HINT)
    return empty


def _check_extent(extent: _Extent, path: Path | str) -> None:
    if extent.columns > MAX_COLUMNS:
        raise DataError(f"the sheet is too large: it reaches column {extent.columns:,}, more "
                        f"than the {MAX_COLUMNS:,} ledger reads", path=path, hint=HINT)
    rows = max(extent.rows, extent.rows_seen)
    grid = rows * max(extent.columns, 1)
    if grid > MAX_GRID_CELLS or extent.cells > MAX_GRID_CELLS:
        raise DataError(f"the sheet is too large: it spans {rows:,} rows x "
                        f"{max(extent.columns, 1):,} columns, more than the "
                        f"{MAX_GRID_CELLS:,} cells ledger reads", path=path, hint=HINT)


def _unpacked(path: Path | str, size: int | None) -> DataError:
    """`size`: the declared total, or None where inflating passed the limit."""
    cap = size_text(MAX_UNPACKED_BYTES)
    found = f"to {size_text(size)}, more than the {cap}" if size is not None else \
        f"beyond the {cap}"
    return DataError(f"the spreadsheet is too large: its parts expand {found} ledger reads "
                     "uncompressed", path=path, hint=HINT)
