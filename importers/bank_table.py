"""A bank statement's table, read as its profile says (importers/bank.py describes profiles):
the header row found, the body cleaned where polars cannot read it as it is (Meezan's padded
quotes, SBI's unquoted split numbers), the footer after the last dated row cut off, and a
spreadsheet's first sheet read cell by cell. The result is string columns by normalised
header plus each row's line; importers/bank_columns.py makes fields of them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, AnyStr

from importers.bank_columns import date_formats, dated
from importers.csv_parts import without_empty_rows
from importers.raw_files import (
    EXACT_SCAN_MAX_BYTES,
    RawFile,
    normalize,
    sniff_delimiter,
    split_line,
)
from importers.readers import LINE, read_table, unique_names
from importers.sheets import read_sheet, reader_failed
from ledger.core.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import polars as pl

    from importers.bank_profiles import Profile

FOOTER_MAX_LINES = 200
"""How far back from the end a footer is looked for."""


def header_in(rows: Iterable[list[str]], profile: Profile) -> int | None:
    for index, cells in enumerate(rows):
        if index >= profile.header_scan:
            return None
        if profile.header_fits({normalize(c) for c in cells}):
            return index
    return None


def csv_header(raw: RawFile, profile: Profile) -> int | None:
    index = raw.header_index(profile.header_fits, profile.header)
    return index if index is not None and index < profile.header_scan else None


@dataclass
class Body:
    """The statement's table: string columns by normalised header, `_line`, footer count."""

    df: pl.DataFrame
    footer: int


def no_header(profile: Profile, raw: RawFile) -> DataError:
    cells = ", ".join(profile.labels.get(h, h) for h in profile.header)
    return DataError(
        f"no header row with {cells} in the first {profile.header_scan} lines", path=raw.path,
        line=1, hint=f"this is not a {profile.title} export, or the bank changed its layout; "
        f"run `ledger formats` to see what each format expects, or edit {profile.path.name}",
    )



DATE_LIKE = (r"^\s*(\d{1,4}[-/. ]\s*(\d{1,2}|[A-Za-z]{3,9})[-/. ,]\s*\d{2,4}"
             r"|[A-Za-z]{3,9}\.? \d{1,2},? \d{4})")
"""A cell shaped like a date (`31/04/24`, `07-Jun-24`, `Mar 31, 2025`) even if it does not
parse: such a row is a transaction with a bad date, never part of a footer."""


def footer_start(values: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """True for rows that end the body: their date cell parses or at least looks like a date."""
    return dated(values, formats).is_not_null() | values.str.contains(DATE_LIKE).fill_null(False)


def read_csv(raw: RawFile, profile: Profile) -> Body:
    raw, index, footer = csv_body(raw, profile)
    return Body(df=read_table(raw, index).df, footer=footer)


def csv_body(raw: RawFile, profile: Profile) -> tuple[RawFile, int, int]:
    """(the file as its table is read, the header's line index, footer lines cut): what
    `read_csv` reads with `read_table(raw, index)`."""
    index = csv_header(raw, profile)
    if index is None:
        raise no_header(profile, raw)
    original = raw
    if profile.line_by_line or profile.rejoin_split_numbers:
        raw = clean_csv(raw, index, profile)
    raw, footer = cut_footer(raw, index, profile)
    if raw is not original:
        original.release()  # the copy holds what is read: a large file's bytes not held twice
    return raw, index, footer


def _lines_from(text: AnyStr, index: int) -> int:
    """Offset in `text` (or bytes) where line `index` (0-based) starts."""
    newline = "\n" if isinstance(text, str) else b"\n"
    offset = 0
    for _ in range(index):
        offset = text.find(newline, offset) + 1  # type: ignore[arg-type]
        if offset == 0:
            return len(text)
    return offset


def _header_cells(text: str, start: int) -> tuple[list[str], str]:
    end = text.find("\n", start)
    line = text[start:end if end >= 0 else len(text)].rstrip("\r")
    sep = sniff_delimiter(line)
    return unique_names([normalize(c) for c in split_line(line, sep)]), sep


def clean_csv(raw: RawFile, index: int, profile: Profile) -> RawFile:
    """Re-write the body as plain CSV, one record per original record (lines are kept).

    Python's csv module accepts what polars refuses (a space after a closing quote), and
    here SBI's split numbers are re-joined: a cell of 1-3 digits, then cells of 2-3 digits,
    then `ddd.dd` are one number (`1`, `23`, `456.78` -> `1,23,456.78`), merged only in a row
    with too many cells, only from the first money column on, and only as many as it has
    too many. A row that still does not fit is left for read_table to report.
    """
    text = raw.text
    start = _lines_from(text, index)
    names, sep = _header_cells(text, start)
    money = [names.index(c) for f in ("amount", "debit", "credit", "balance")
             if (c := profile.col(f)) in names]
    first_money = min(money) if money else len(names)
    body = text[start:]
    if profile.rejoin_split_numbers and not profile.line_by_line and body \
            and not any(c in body for c in ('"', "\0")) \
            and body.count("\r") == body.count("\r\n"):
        data = text[:start] + _rejoin_unquoted(body.replace("\r\n", "\n"), sep, len(names),
                                               first_money)
        return RawFile(path=raw.path, data=data.encode("utf-8"), sha256=raw.sha256)
    if profile.line_by_line and not profile.rejoin_split_numbers:
        fast = unpad_quotes(body, sep)
        if fast is not None:
            return RawFile(path=raw.path, data=(text[:start] + fast).encode("utf-8"),
                           sha256=raw.sha256)
    out = io.StringIO()
    out.write(text[:start])
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    reader = csv.reader(io.StringIO(text[start:], newline=""), delimiter=sep)
    for cells in reader:
        if profile.rejoin_split_numbers and len(cells) > len(names):
            cells = rejoin(cells, len(names), first_money)
        if cells:
            writer.writerow(cells)
        else:
            out.write("\n")
    return RawFile(path=raw.path, data=out.getvalue().encode("utf-8"), sha256=raw.sha256)


def unpad_quotes(body: str, sep: str) -> str | None:
    """`clean_csv` of Meezan's kind of body (`"06/02/2025" ,"Salary" ,`: spaces after each
    closing quote, which polars refuses) in one regex pass instead of Python's csv module row
    by row: the spaces between a closing quote and the separator or line end move inside the
    quotes, where the csv module would have put them in the value. Only for
    bodies where that is all the csv module would change: no doubled quotes inside values,
    no space before an opening quote, no NUL, no bare CR; otherwise None (the slow path)."""
    import re

    if not body or '""' in body or "\0" in body or body.count("\r") != body.count("\r\n"):
        return None
    body = body.replace("\r\n", "\n")
    if re.search(re.escape(sep) + r'[ \t]+"', body) or re.search(r'\n[ \t]+"', body):
        return None  # a space before an opening quote: the csv module keeps it, quotes too
    opening = [f'{before}"{pad}' for before in (sep, "\n") for pad in (" ", "\t")]
    if body.count('"') % 2 or body.startswith(('" ', '"\t')) or any(o in body for o in opening):
        return None  # an opening quote followed by a space: not a pad
    # the csv module keeps those spaces in the value (`"abc" ,` -> `abc `): so do we. One
    # space before the separator is Meezan's pad (str.replace); others take the regex.
    body = body.replace('" ' + sep, ' "' + sep)
    if '" ' not in body and '"\t' not in body:
        return body
    return re.sub(r'"([ \t]+)(?=' + re.escape(sep) + r"|\n|\Z)", r'\1"', body)


def _rejoin_unquoted(body: str, sep: str, width: int, first_money: int) -> str:
    """`clean_csv` of a body with no quotes (SBI's): only rows with too many cells need
    Python (`rejoin`); the others, found vectorised, are kept as they are, which is what the
    csv module would write back for a line without quotes. Ends with a newline, like it."""
    import polars as pl

    lines = pl.Series([body.removesuffix("\n")]).str.split("\n").explode()
    wide = (lines.str.count_matches(sep, literal=True) + 1 > width).arg_true()
    if wide.len():
        out = io.StringIO()
        writer = csv.writer(out, delimiter=sep, lineterminator="\n")
        for line in lines.gather(wide).to_list():
            writer.writerow(rejoin(line.split(sep), width, first_money))
        lines = lines.scatter(wide, out.getvalue().removesuffix("\n").split("\n"))
    return lines.str.join("\n")[0] + "\n"


_HEAD = re.compile(r"-?\d{1,3}")
_GROUP = re.compile(r"\d{2,3}")
_TAIL = re.compile(r"\d{3}\.\d{1,2}")


def rejoin(cells: list[str], width: int, start: int) -> list[str]:
    out = cells[:start]
    excess = len(cells) - width
    i = start
    while i < len(cells):
        if excess > 0 and _HEAD.fullmatch(cells[i].strip()):
            j = i + 1
            while j < len(cells) and j - i < excess and _GROUP.fullmatch(cells[j].strip()):
                j += 1
            if j < len(cells) and j - i <= excess and _TAIL.fullmatch(cells[j].strip()):
                out.append(",".join(c.strip() for c in cells[i:j + 1]))
                excess -= j - i
                i = j + 1
                continue
        out.append(cells[i])
        i += 1
    return out


def cut_footer(raw: RawFile, index: int, profile: Profile) -> tuple[RawFile, int]:
    """The file without the lines after its last dated row, and how many non-blank ones.

    Only the last FOOTER_MAX_LINES lines are looked at; a row whose date cell looks like a
    date but does not parse ends the body too, so that it is reported, not dropped. Where the
    header and those last lines are ASCII (the usual case), only they are decoded: the same
    answer as decoding the whole file, without doing so.
    """
    if not profile.footer:
        return raw, 0
    data = raw.data
    if data[:2] not in (b"\xff\xfe", b"\xfe\xff") and not data.startswith(b"\xef\xbb\xbf"):
        header_start, body_start = _lines_from(data, index), _lines_from(data, index + 1)
        tail_start = _tail_start(data, body_start)
        if data[:body_start].isascii() and data[tail_start:].isascii():
            footer = _footer(data[header_start:body_start].decode("ascii"),
                             data[tail_start:].decode("ascii"), profile)
            count = sum(1 for line in footer if line.strip())
            if not count:
                return raw, 0
            cut = len("\n".join(footer))  # ASCII: as many bytes as characters
            length = len(data) - cut
            del data
            return _prefix(raw, length), count
    text = raw.text
    header_start, body_start = _lines_from(text, index), _lines_from(text, index + 1)
    footer = _footer(text[header_start:body_start], text[_tail_start(text, body_start):],
                     profile)
    count = sum(1 for line in footer if line.strip())
    if not count:
        return raw, 0
    dropped = "\n".join(footer)
    if raw.encoding in ("utf-8", "cp1252"):
        data = raw.data[:len(raw.data) - len(dropped.encode(raw.encoding))]
    else:
        data = text[:len(text) - len(dropped)].encode("utf-8")
    return RawFile(path=raw.path, data=data, sha256=raw.sha256), count


def _prefix(raw: RawFile, length: int) -> RawFile:
    """`raw` cut to its first `length` bytes. A large file read from disk is cut without a
    copy (`RawFile.cut`: read_table reads the table from the bytes as read, the footer's
    records dropped; 0.07 s of CPU on 112 MiB) and released once its table is read, as a
    file's own bytes are (`RawFile.release`; read again from the file should they be asked
    for, refused if it changed)."""
    if raw.origin is None or length <= EXACT_SCAN_MAX_BYTES:
        return RawFile(path=raw.path, data=raw.data[:length], sha256=raw.sha256)
    return RawFile.cut(raw, length)


def _tail_start(text: AnyStr, body_start: int) -> int:
    """Offset of the first of the body's last FOOTER_MAX_LINES lines (text or bytes)."""
    newline = "\n" if isinstance(text, str) else b"\n"
    tail_start = len(text)
    for _ in range(FOOTER_MAX_LINES):
        tail_start = max(text.rfind(newline, body_start, tail_start - 1) + 1,  # type: ignore[arg-type]
                         body_start)
        if tail_start == body_start:
            break
    return tail_start


def _footer(header: str, tail: str, profile: Profile) -> list[str]:
    """The lines of `tail` (the body's last lines) after its last dated row; [] if none."""
    import polars as pl

    names, sep = _header_cells(header, 0)
    date_at = names.index(profile.col("date"))  # type: ignore[arg-type]
    lines = tail.split("\n")
    cells = [split_line(line.rstrip("\r"), sep) if line.strip() else [] for line in lines]
    values = pl.Series([c[date_at] if len(c) > date_at else None for c in cells],
                       dtype=pl.String)
    dated = pl.select(footer_start(pl.lit(values), profile.date_formats)).to_series()
    hits = [i for i, ok in enumerate(dated.to_list()) if ok]
    if not hits or hits[-1] == len(lines) - 1:
        return []
    footer = lines[hits[-1] + 1:]
    if sum(line.count('"') for line in footer) % 2:
        return []
    return footer


def read_spreadsheet(raw: RawFile, profile: Profile) -> Body:
    import polars as pl

    from importers.sheet_limits import check_raw

    check_raw(raw)
    try:
        grid = read_sheet(raw.data)
    except BaseException as exc:  # the reader's own errors vary by file kind
        raise DataError(f"cannot read as a spreadsheet: {reader_failed(exc)}",
                        path=raw.path, hint="open it in a spreadsheet program and save it "
                        "again as .xlsx, or export the statement as CSV") from None
    head = [[c or "" for c in row] for row in grid.head(profile.header_scan).rows()]
    index = header_in(head, profile)
    if index is None:
        raise no_header(profile, raw)
    names = unique_names([normalize(c) for c in head[index]])
    df = grid.slice(index + 1).rename(dict(zip(grid.columns, names, strict=True)))
    df = df.with_columns(pl.int_range(index + 2, index + 2 + df.height, dtype=pl.Int64)
                         .alias(LINE))
    df = without_empty_rows(df, [c for c in df.columns if c != LINE])
    footer = 0
    if profile.footer and df.height:
        dated = df.select(footer_start(pl.col(profile.col("date")),  # type: ignore[arg-type]
                                        date_formats(profile, True)))
        hits = dated.to_series().arg_true()
        if hits.len() and hits[-1] < df.height - 1:
            footer = df.height - 1 - hits[-1]
            df = df.head(hits[-1] + 1)
    return Body(df=df, footer=footer)

