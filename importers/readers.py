"""The table of a CSV export, shared by every CSV importer: all-string columns by normalised
header name, each row with the physical line it came from, for `path:line:` errors.

The file itself (bytes, decoding, head lines for detection) is importers/raw_files.py's.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from importers.csv_parts import chunked_like, read_parts, without_empty_rows
from importers.raw_files import (
    EXACT_SCAN_MAX_BYTES,
    RawFile,
    _is_utf16,
    check_unchanged,
    normalize,
    sniff_delimiter,
    split_line,
)
from ledger.core.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Set as AbstractSet

    import polars as pl

LINE = "_line"
"""Column holding each row's physical line number in the file (1-based)."""


@dataclass
class Table:
    """A CSV body as strings, columns named by normalised header, plus each row's `_line`."""

    df: pl.DataFrame
    header: list[str]
    path: Path
    delimiter: str
    names: dict[str, str] = field(default_factory=dict)

    def has(self, *aliases: str) -> bool:
        return any(a in self.df.columns for a in aliases)

    def col(self, *aliases: str) -> pl.Expr:
        """The first of `aliases` present, as an expression (null literal if none is)."""
        import polars as pl

        for alias in aliases:
            if alias in self.df.columns:
                return pl.col(alias)
        return pl.lit(None, dtype=pl.String)

    def require(self, *groups: Iterable[str] | str) -> None:
        """Each group (a name or aliases) must be present; else say which exist."""
        for group in groups:
            aliases = (group,) if isinstance(group, str) else tuple(group)
            if not self.has(*aliases):
                raise DataError(
                    f"column {aliases[0]!r} is missing",
                    path=self.path, line=1,
                    hint="columns found: " + ", ".join(repr(h) for h in self.header),
                )


def read_table(raw: RawFile, header_index: int = 0, *, delimiter: str | None = None,
               positional: bool = False, columns: AbstractSet[str] | None = None,
               chunked: bool = False) -> Table:
    """Read the CSV body that starts at line `header_index` (0-based) as all-string columns.

    Rows that are entirely empty are dropped; rows with fewer or more cells than the header are
    a DataError at their line (a truncated or hand-edited file). UTF-8 files go to polars as
    they are (it validates them); others are decoded (Windows-1252, UTF-16) and re-encoded.
    Blank trailing header cells are not columns, except for a `positional` layout (one read by
    position, whose last column may have no name: Freelancer.com's balance).

    `columns`: the (normalised) names the caller reads; a large file's other columns are
    read and checked as ever, a part of the file at a time, but not kept
    (importers.csv_parts). `chunked`: the columns as polars read them, in pieces (aligned),
    not each copied into one: for a caller that copies them anyway, in an order of its own
    (csv_parts.in_order; importers/upwork.py).
    """
    import polars as pl

    skip = 0  # lines polars skips itself, rather than a copy of the body (a large file's)
    # a large statement cut before its footer (RawFile.cut) is read from its bytes as read,
    # the records after the cut dropped (`_before_cut`), not from a copy of all but those
    whole = raw.__dict__.get("whole") if header_index and columns is None \
        and "data" not in raw.__dict__ else None
    cut_read = whole is not None and not _is_utf16(whole)
    body = whole if cut_read else _utf8_body(raw, header_index)
    if cut_read:
        skip = header_index
    elif body is None:
        text = raw.text
        body = text[_offset_of_line(text, header_index):].encode("utf-8")
    elif body is _LARGE:
        body, skip = raw.data, header_index
    start = _line_offset(body, skip)
    newline = body.find(b"\n", start)
    try:
        header_line = body[start:len(body) if newline < 0 else newline].decode("utf-8") \
            .rstrip("\r")
    except UnicodeDecodeError:
        if raw.encoding == "utf-8":
            raise DataError("the header line has bytes that are not UTF-8 text", path=raw.path,
                            line=header_index + 1,
                            hint="the file may be damaged; download the export again") from None
        return read_table(_decoded_copy(raw), header_index, delimiter=delimiter,
                          positional=positional, columns=columns, chunked=chunked)
    sep = delimiter or sniff_delimiter(header_line)
    header = [h.replace("\ufeff", "").strip() for h in split_line(header_line, sep)]
    width = len(header)
    while not positional and len(header) > 1 and not header[-1]:
        header.pop()  # blank trailing header cells are not columns (a PayPal statement
        # ends its header with six; its rows stop at the last named column)
    names = unique_names([normalize(h) for h in header])
    names += [f"_blank#{i}" for i in range(width - len(header))]
    first_line = header_index + 2
    exact = len(body) - start <= EXACT_SCAN_MAX_BYTES
    if cut_read and (raw.length or 0) - start <= EXACT_SCAN_MAX_BYTES:
        return _read_cut_copy(raw, header_index, delimiter, positional)  # checked exactly
    named = names[:len(header)]
    keep = named if columns is None else [n for n in named if n in columns]
    parts = None if exact or columns is None else \
        read_parts(body, start, sep, names, named, keep, first_line, LINE)
    if parts is not None:
        _record_lines(None, sep, (len(header), width), raw.path, first_line, exact,
                      raw_body=body, body_start=start)  # a download cut short: its last row
        del body  # (raw.data: let go by `_table`)
        return _table(parts, raw, header, sep, named, chunked)
    # a large file's bytes held as read are its whole size beside polars' table: polars reads
    # the file itself (its bytes let go first; read again, refused if changed, should an error
    # need them), and the file is then proved to be the bytes hashed (the import id)
    origin = raw.origin if not exact and raw.length is None \
        and body is raw.__dict__.get("data") else None
    from_file = origin is not None
    cut = None
    if from_file:
        cut = _cut_last_row(body, start, sep, (len(header), width), raw.path, first_line)
        del body
        raw.release()
    try:
        df = pl.read_csv(
            origin or body, infer_schema=False, separator=sep,
            has_header=True, skip_lines=skip, new_columns=names, truncate_ragged_lines=False,
            raise_if_empty=False, glob=False,
        )
    except pl.exceptions.PolarsError as exc:
        if cut_read:  # maybe in what follows the cut: its copy tells
            return _read_cut_copy(raw, header_index, delimiter, positional)
        if "utf-8" in str(exc).lower() and raw.encoding != "utf-8":
            return read_table(_decoded_copy(raw), header_index, delimiter=delimiter,
                              positional=positional, columns=columns, chunked=chunked)
        body = raw.data if from_file else body
        text = body[start:].decode("utf-8", errors="replace")
        _record_lines(text, sep, (len(header), width), raw.path, first_line, exact=True)
        _refuse_quotes(text, sep, raw.path, first_line)
        raise DataError(f"cannot read as CSV: {str(exc).splitlines()[0]}", path=raw.path,
                        hint="the file may be damaged; download the export again") from None
    if origin is not None:
        check_unchanged(origin, raw.sha256, raw.path, raw.stamp)
        if cut:
            raise cut
        body, record_lines = b"", None
    elif cut_read:
        before = _before_cut(df, whole, raw.length or 0, start, sep, names)
        if before is None:
            return _read_cut_copy(raw, header_index, delimiter, positional)
        if cut := _cut_last_row(whole, start, sep, (len(header), width), raw.path, first_line,
                                end=raw.length):
            raise cut
        df, body, whole, record_lines = before, b"", None, None
    else:
        text = body[start:].decode("utf-8") if exact else None
        record_lines = _record_lines(text, sep, (len(header), width), raw.path, first_line,
                                     exact, raw_body=body, body_start=start)
    if width > len(header):
        df = df.select(named)
    if record_lines is not None and len(record_lines) == df.height:
        line = pl.Series(LINE, record_lines, dtype=pl.Int64)
    else:
        line = chunked_like(df, pl.int_range(first_line, first_line + df.height, eager=True,
                                              dtype=pl.Int64))
    df = df.with_columns(line.alias(LINE))
    df = without_empty_rows(df, [c for c in df.columns if c != LINE])
    del body
    return _table(df, raw, header, sep, named, chunked)


def _before_cut(df: pl.DataFrame, whole: bytes, length: int, start: int, sep: str,
                names: list[str]) -> pl.DataFrame | None:
    """`df`, read from all of `whole` (its header at `start`), without the records after
    byte `length`: the table of `whole[:length]`, where those records are the ones polars
    reads from the header line and the bytes after the cut and the record before them is the
    cut's last line; else None (a quoted line break, a footer read otherwise: the cut copy is
    read)."""
    import polars as pl

    header = whole[start:whole.find(b"\n", start) + 1]
    try:  # read as the whole was, after the header line
        after = pl.read_csv(header + whole[length:], infer_schema=False, separator=sep,
                            has_header=True, new_columns=names, truncate_ragged_lines=False,
                            raise_if_empty=False)
    except pl.exceptions.PolarsError:
        return None
    kept = df.height - after.height
    if kept < 1 or not df.slice(kept).equals(after):
        return None
    stop = length - (whole[length - 1:length] == b"\n")
    last = whole[max(whole.rfind(b"\n", start, stop) + 1, start):stop]
    cells = split_line(last.decode("utf-8", errors="replace").rstrip("\r"), sep)
    row = [value or "" for value in df.row(kept - 1)]
    if row != cells + [""] * (len(row) - len(cells)):
        return None
    return df.head(kept)


def _read_cut_copy(raw: RawFile, header_index: int, delimiter: str | None,
                   positional: bool) -> Table:
    """`read_table` of a cut statement's own bytes, a copy of them (`RawFile.data`), where
    its table could not be read from the bytes as read: that table, those errors."""
    raw.data  # noqa: B018  (sliced from `whole` and kept, as `data`)
    raw.whole = None
    return read_table(raw, header_index, delimiter=delimiter, positional=positional)


def _table(df: pl.DataFrame, raw: RawFile, header: list[str], sep: str, named: list[str],
           chunked: bool = False) -> Table:
    """The Table of the rows read, the file's bytes let go first (the caller holds them no
    more); its columns each in one piece unless `chunked`."""
    import polars as pl

    raw.release()
    if df.n_chunks() > 1 and not chunked:  # a column at a time, once the bytes are gone:
        # the next queries need aligned single chunks, and copying the whole table at once
        # doubled it
        df = pl.DataFrame([df.drop_in_place(name).rechunk() for name in list(df.columns)])
    return Table(df=df, header=header, path=raw.path, delimiter=sep,
                 names=dict(zip(named, header, strict=True)))


_LARGE = b"(large)"
"""`_utf8_body`'s answer for a large file whose header is not on its first line: polars skips
the lines before it (`skip_lines`, which counts raw lines as `_utf8_body` does) rather than
reading a copy of all but those lines."""


def _utf8_body(raw: RawFile, header_index: int) -> bytes | None:
    """The bytes from the header line on, if the file may be UTF-8 (no UTF-16 BOM); `_LARGE`
    for a large file whose header is not its first line."""
    data = raw.data
    if _is_utf16(data):
        return None
    offset = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if header_index and len(data) > EXACT_SCAN_MAX_BYTES:
        return _LARGE if _line_offset(data, header_index) < len(data) else b""
    for _ in range(header_index):
        nxt = data.find(b"\n", offset)
        if nxt < 0:
            return b""
        offset = nxt + 1
    return data[offset:]


def _line_offset(data: bytes, index: int) -> int:
    """Offset of line `index` (0-based) in `data`: after `index` newlines."""
    offset = 0
    for _ in range(index):
        offset = data.find(b"\n", offset) + 1
        if offset == 0:
            return len(data)
    return offset


def _decoded_copy(raw: RawFile) -> RawFile:
    """The same file re-encoded as UTF-8 from whatever `decode` found (Windows-1252...)."""
    return RawFile(path=raw.path, data=raw.text.encode("utf-8"), sha256=raw.sha256)


def _offset_of_line(text: str, index: int) -> int:
    offset = 0
    for _ in range(index):
        nxt = text.find("\n", offset)
        if nxt < 0:
            return len(text)
        offset = nxt + 1
    return offset


def unique_names(names: list[str]) -> list[str]:
    """Header names with a repeat numbered: the second `Dr / Cr` is `Dr / Cr#2`."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def _record_lines(body: str | None, sep: str, widths: tuple[int, int], path: Path,
                  first_line: int, exact: bool, raw_body: bytes | None = None,
                  body_start: int = 0) -> list[int] | None:
    """Check cell counts and return each record's start line (None when not computed).

    `widths`: the named columns and the header's cells (more where it ends in blank cells);
    a row may stop anywhere between them, and cells past the named columns must be blank.

    Small files are checked row by row (quote-aware); large ones only at their last row, the
    place a download cut short breaks, and only where no quoted field spans lines.
    """
    if not exact:  # the body is raw_body[body_start:] (no copy of a large file's)
        if cut := _cut_last_row(raw_body or b"", body_start, sep, widths, path, first_line):
            raise cut
        return None
    by_line = _lines_are_records(body or "", sep)
    if by_line is not None:
        return _line_records(by_line, sep, widths, path, first_line)
    reader = csv.reader(io.StringIO(body or "", newline=""), delimiter=sep)
    starts: list[int] = []
    previous_end = 1
    try:
        next(reader, None)
        for cells in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if cells and any(c.strip() for c in cells) and not (
                    widths[0] <= len(cells) <= widths[1]
                    and not any(c.strip() for c in cells[widths[0]:])):
                raise _ragged(path, start + first_line - 2, len(cells), widths[0])
            starts.append(start + first_line - 2)
    except csv.Error as exc:
        raise DataError(f"cannot read as CSV: {exc}", path=path,
                        line=reader.line_num + first_line - 1,
                        hint="the file may be damaged; download the export again") from None
    return starts


def _line_records(body: str, sep: str, widths: tuple[int, int], path: Path,
                  first_line: int) -> list[int]:
    """`_record_lines` of a body where each line is a record and no cell is quoted
    (`_lines_are_records`): a line's cells are one more than its separators. Only lines
    with another count are split (most small exports have none)."""
    lines = body.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline ending the last record starts none
    for number, line in enumerate(lines[1:], start=first_line):
        if line and line.count(sep) + 1 == widths[0]:
            continue
        cells = split_line(line, sep) if line else []
        if cells and any(c.strip() for c in cells) and not (
                widths[0] <= len(cells) <= widths[1]
                and not any(c.strip() for c in cells[widths[0]:])):
            raise _ragged(path, number, len(cells), widths[0])
    return list(range(first_line, first_line + len(lines) - 1))


def _lines_are_records(body: str, sep: str) -> str | None:
    """The text to count cells in where each line of `body` is one record (`_line_records`):
    the body where nothing is quoted; where cells are quoted (every one, as PayPal writes;
    some, as Upwork's descriptions), the body with each quoted cell written unquoted
    (`_quotes_masked`), which has the same cells, blank where the csv module reads them
    blank. None otherwise (a quoted line break, a doubled quote, a quote inside a cell, a NUL
    or a bare CR: the csv module reads it)."""
    if not body or "\0" in body or body.count("\r") != body.count("\r\n"):
        return None
    return body if '"' not in body else _quotes_masked(body, sep)


def _quotes_masked(body: str, sep: str) -> str | None:
    """`body` with every quoted cell written as an unquoted one of the same blankness (`""`
    and `" "` as empty cells, `"a, b"` as `x`), where each line's cells are each either
    quoted (no quote or line break inside) or free of quotes; None where any cell is
    neither."""
    quoted = '"[^"\r\n]*+"'
    plain = f'[^"{re.escape(sep)}\r\n]*+'
    cell = f"(?:{quoted}|{plain})"
    line = f"{cell}(?:{re.escape(sep)}{cell})*+"
    if re.fullmatch(f"(?:{line})(?:\r?\n{line})*+", body) is None:
        return None
    # blank quoted cells become empty ones, the others one non-blank letter: two passes in C,
    # no Python step per cell (`\s` is str.isspace, which the csv path's strip() uses)
    blank = re.sub(f'"[^\\S\r\n{re.escape(sep)}]*+"', "", body)
    return re.sub(quoted, "x", blank)


def _cut_last_row(data: bytes, body_start: int, sep: str, widths: tuple[int, int], path: Path,
                  first_line: int, end: int | None = None) -> DataError | None:
    """The error of a large body (`data[body_start:end]`) whose last row has too few cells,
    the place a download cut short breaks, where no quoted field spans lines; None if it is
    whole."""
    end = len(data) if end is None else end
    while end > body_start and data[end - 1] in b"\r\n":
        end -= 1
    tail = data[max(data.rfind(b"\n", body_start, end) + 1, body_start) : end]
    if not tail.strip():
        return None
    cells = split_line(tail.decode("utf-8", errors="replace").rstrip("\r"), sep)
    # the quotes counted only for a short line (a pass over the body: 0.05 s on 112 MiB)
    if len(cells) < widths[0] and data.count(b'"', body_start, end) % 2 == 0:
        line = first_line - 1 + data.count(b"\n", body_start, end)
        return _ragged(path, line, len(cells), widths[0])
    return None


def _refuse_quotes(body: str, sep: str, path: Path, first_line: int) -> None:
    """Where polars refused a body whose rows have the right cells (`_record_lines` let it
    through), the row whose quotes CSV cannot read, if one has (a quoted cell never closed, a
    quote inside a cell not doubled): a DataError at the line that row starts on. Why: polars'
    own message for such a file names no line and is not always the same (it depends on which
    of its threads reports first: "could not parse ..." or "CSV malformed: expected 0 rows");
    Python's csv reader, told to be strict, stops at the first such row, every time."""
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sep, strict=True)
    previous_end = 1
    try:
        next(reader, None)
        for _ in reader:
            previous_end = reader.line_num
    except csv.Error:
        raise DataError(
            "a quoted cell in the row that starts on this line is not closed, or a quote "
            'inside it is not doubled (""): the row cannot be read as CSV',
            path=path, line=previous_end + first_line - 1,
            hint="the file may be damaged or edited; download the export again, or mend the "
            "quotes in that row") from None


def _ragged(path: Path, line: int, found: int, width: int) -> DataError:
    what = "fewer" if found < width else "more"
    return DataError(
        f"row has {found} cells, {what} than the header's {width}",
        path=path, line=line,
        hint="the file looks truncated or edited; download the export again",
    )
