"""Readers shared by every CSV importer: decoding, header finding, a typed table with line numbers.

Exports arrive as UTF-8 with or without a BOM, Windows-1252 (older PayPal and banks) or
UTF-16 (Excel "Unicode text"). Headers drift in case, spacing and BOMs, so columns are matched
by a normalised name. Every row keeps the physical line it came from, for `path:line:` errors.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from collections.abc import Set as AbstractSet

    import polars as pl

HEAD_BYTES = 64 * 1024
"""How much of a file detection may look at."""

SCAN_LINES = 50
"""How many lines a header may be preceded by (bank preambles)."""

EXACT_SCAN_MAX_BYTES = 8 * 1024 * 1024
"""Files up to this size get a field count check on every row; larger ones on the last row."""

LINE = "_line"
"""Column holding each row's physical line number in the file (1-based)."""

csv.field_size_limit(2**31 - 1)  # a long description is data, not an error; limits are ours


def normalize(name: str) -> str:
    """Header name as matched: no BOM, trimmed, single spaces, case-folded."""
    return re.sub(r"\s+", " ", name.replace("\ufeff", "")).strip().casefold()


def _is_utf16(data: bytes) -> bool:
    return data[:2] in (b"\xff\xfe", b"\xfe\xff")


def decode(data: bytes, path: str | Path) -> tuple[str, str]:
    """Bytes to text, trying UTF-16 (by BOM), UTF-8 (BOM or not) and Windows-1252 in turn.

    Returns (text, encoding). A binary file or bytes no encoding explains is a DataError.
    """
    if _is_utf16(data):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise _undecodable(data, exc, path) from None
    if b"\x00" in data[:HEAD_BYTES]:
        raise DataError(
            "this is a binary file, not a text export", path=path,
            hint="export the statement as CSV (or XLSX/OFX where supported) and import that",
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc, path) from None


def _undecodable(data: bytes, exc: UnicodeDecodeError, path: str | Path) -> DataError:
    line = data[: exc.start].count(b"\n") + 1
    byte = data[exc.start : exc.start + 1].hex()
    return DataError(
        f"byte 0x{byte} cannot be read as UTF-8, UTF-16 or Windows-1252 text",
        path=path, line=line,
        hint="the file may be damaged or not a CSV export; download it again or save it as UTF-8",
    )


def sniff_delimiter(line: str) -> str:
    """The separator a header line uses: comma, semicolon (German Excel) or tab."""
    outside = re.sub(r'"[^"]*"', "", line)
    counts = {sep: outside.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def split_line(line: str, delimiter: str) -> list[str]:
    """One CSV line's cells (quote-aware). A stray CR or LF inside the line (a damaged file)
    is read as a space: csv would refuse the line with an error that names no line."""
    clean = line.replace("\r", " ").replace("\n", " ").replace("\0", " ")
    return next(csv.reader([clean], delimiter=delimiter), [])


@dataclass
class RawFile:
    """A file as read from disk: bytes, their sha256 (the import id) and lazily its text."""

    path: Path
    data: bytes
    sha256: str

    @cached_property
    def decoded(self) -> tuple[str, str]:
        return decode(self.data, self.path)

    @property
    def text(self) -> str:
        return self.decoded[0]

    @property
    def encoding(self) -> str:
        return self.decoded[1]

    @cached_property
    def head_text(self) -> str:
        """The first KBs as text, for detection: never raises."""
        head = self.data[:HEAD_BYTES]
        if _is_utf16(head):
            return head.decode("utf-16", errors="replace")
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return head.decode(encoding)
            except UnicodeDecodeError:
                continue
        return head.decode("utf-8", errors="replace")

    @cached_property
    def head_lines(self) -> list[str]:
        return self.head_text.splitlines()[:SCAN_LINES]

    @cached_property
    def is_binary(self) -> bool:
        return not _is_utf16(self.data) and b"\x00" in self.data[:HEAD_BYTES]

    @cached_property
    def head_cells(self) -> list[frozenset[str] | None]:
        """Each head line's normalised cells (None for a blank line), split once: detection
        asks every format and bank profile about the same lines (~10x faster than splitting
        per question)."""
        return [frozenset(normalize(c) for c in split_line(line, sniff_delimiter(line)))
                if line.strip() else None for line in self.head_lines]

    def header_index(self, matches: Callable[[AbstractSet[str]], bool]) -> int | None:
        """Index of the first of the first lines whose normalised cells satisfy `matches`."""
        if self.is_binary:
            return None
        return next((index for index, cells in enumerate(self.head_cells)
                     if cells is not None and matches(cells)), None)


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


def read_table(raw: RawFile, header_index: int = 0, *, delimiter: str | None = None) -> Table:
    """Read the CSV body that starts at line `header_index` (0-based) as all-string columns.

    Rows that are entirely empty are dropped; rows with fewer or more cells than the header are
    a DataError at their line (a truncated or hand-edited file). UTF-8 files go to polars as
    they are (it validates them); others are decoded (Windows-1252, UTF-16) and re-encoded.
    """
    import polars as pl

    body = _utf8_body(raw, header_index)
    if body is None:
        text = raw.text
        body = text[_offset_of_line(text, header_index):].encode("utf-8")
    newline = body.find(b"\n")
    try:
        header_line = (body if newline < 0 else body[:newline]).decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        if raw.encoding == "utf-8":
            raise DataError("the header line has bytes that are not UTF-8 text", path=raw.path,
                            line=header_index + 1,
                            hint="the file may be damaged; download the export again") from None
        return read_table(_decoded_copy(raw), header_index, delimiter=delimiter)
    sep = delimiter or sniff_delimiter(header_line)
    header = [h.replace("\ufeff", "").strip() for h in split_line(header_line, sep)]
    width = len(header)
    while len(header) > 1 and not header[-1]:
        header.pop()  # blank trailing header cells are not columns (a PayPal statement
        # ends its header with six; its rows stop at the last named column)
    names = _unique([normalize(h) for h in header])
    names += [f"_blank#{i}" for i in range(width - len(header))]
    first_line = header_index + 2
    exact = len(body) <= EXACT_SCAN_MAX_BYTES
    try:
        df = pl.read_csv(
            body, infer_schema=False, separator=sep, has_header=True,
            new_columns=names, truncate_ragged_lines=False, raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        if "utf-8" in str(exc).lower() and raw.encoding != "utf-8":
            return read_table(_decoded_copy(raw), header_index, delimiter=delimiter)
        text = body.decode("utf-8", errors="replace")
        _record_lines(text, sep, (len(header), width), raw.path, first_line, exact=True)
        raise DataError(f"cannot read as CSV: {str(exc).splitlines()[0]}", path=raw.path,
                        hint="the file may be damaged; download the export again") from None
    text = body.decode("utf-8") if exact else None
    record_lines = _record_lines(text, sep, (len(header), width), raw.path, first_line, exact,
                                 raw_body=body)
    if width > len(header):
        df = df.select(names[:len(header)])
    if record_lines is not None and len(record_lines) == df.height:
        line = pl.Series(LINE, record_lines, dtype=pl.Int64)
    else:
        line = pl.int_range(first_line, first_line + df.height, eager=True, dtype=pl.Int64)
    df = df.with_columns(line.alias(LINE))
    cells = [c for c in df.columns if c != LINE]
    if cells:
        df = df.filter(~pl.all_horizontal(pl.col(c).is_null() for c in cells))
    return Table(df=df, header=header, path=raw.path, delimiter=sep,
                 names=dict(zip(names[:len(header)], header, strict=True)))


def _utf8_body(raw: RawFile, header_index: int) -> bytes | None:
    """The bytes from the header line on, if the file may be UTF-8 (no UTF-16 BOM)."""
    data = raw.data
    if _is_utf16(data):
        return None
    offset = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    for _ in range(header_index):
        nxt = data.find(b"\n", offset)
        if nxt < 0:
            return b""
        offset = nxt + 1
    return data[offset:]


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


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def _record_lines(body: str | None, sep: str, widths: tuple[int, int], path: Path,
                  first_line: int, exact: bool, raw_body: bytes | None = None
                  ) -> list[int] | None:
    """Check cell counts and return each record's start line (None when not computed).

    `widths`: the named columns and the header's cells (more where it ends in blank cells);
    a row may stop anywhere between them, and cells past the named columns must be blank.

    Small files are checked row by row (quote-aware); large ones only at their last row, the
    place a download cut short breaks, and only where no quoted field spans lines.
    """
    if not exact:
        data = raw_body or b""
        end = len(data)
        while end and data[end - 1] in b"\r\n":
            end -= 1
        tail = data[data.rfind(b"\n", 0, end) + 1 : end]
        if tail.strip() and data.count(b'"') % 2 == 0:
            cells = split_line(tail.decode("utf-8", errors="replace").rstrip("\r"), sep)
            if len(cells) < widths[0]:
                line = first_line - 1 + data.count(b"\n", 0, end)
                raise _ragged(path, line, len(cells), widths[0])
        return None
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


def _ragged(path: Path, line: int, found: int, width: int) -> DataError:
    what = "fewer" if found < width else "more"
    return DataError(
        f"row has {found} cells, {what} than the header's {width}",
        path=path, line=line,
        hint="the file looks truncated or edited; download the export again",
    )
