"""The explicit list of formats, and detection that never guesses between two.

Detection looks only at a file's first KBs and must match exactly one format: none is an
error listing what was tried, two is an error naming both. `--source NAME` skips detection.
"""

from __future__ import annotations

import hashlib
import io
import re
import shlex
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.errors import DataError, UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl

    from importers.base import Format, ImportOptions, Parsed
    from importers.raw_files import RawFile

FORMAT_MODULES: tuple[str, ...] = (
    "importers.upwork",
    "importers.paypal",
    "importers.payoneer",
    "importers.wise",
    "importers.fiverr",
    "importers.freelancer",
    "importers.ofx",
    "importers.camt",
    "importers.swift_mt940",
    "importers.bank",
)
"""Modules that define `FORMATS`, a list of Format. Order is the order `ledger formats` shows."""


def formats(profile_dirs: Sequence[Path] = ()) -> list[Format]:
    """Every known format, in registry order, then the bank profiles in `profile_dirs`
    (a user's `<ledger dir>/profiles/`; one named like a bundled profile replaces it)."""
    found: list[Format] = []
    for module in FORMAT_MODULES:
        found.extend(import_module(module).FORMATS)
    if profile_dirs:
        from importers.bank import with_user_profiles

        found = with_user_profiles(found, profile_dirs)
    return found


def by_name(name: str, profile_dirs: Sequence[Path] = ()) -> Format:
    """The format `--source NAME` names, in any case (`Upwork` is `upwork`)."""
    known_formats = formats(profile_dirs)
    for fmt in known_formats:
        if fmt.name == name:
            return fmt
    for fmt in known_formats:
        if fmt.name.lower() == name.strip().lower():
            return fmt
    known = ", ".join(f.name for f in known_formats)
    raise UsageError(f"unknown source {name!r}", hint=f"known sources: {known}")


def read(path: Path) -> RawFile:
    """A file's bytes and sha256, with clear errors for what is not a readable file."""
    from importers.raw_files import RawFile, read_stamped

    data, stamp = read_stamped(path)
    return RawFile(path=path, data=data, sha256=hashlib.sha256(data).hexdigest(), origin=path,
                   stamp=stamp)


def detect(raw: RawFile, profile_dirs: Sequence[Path] = ()) -> Format:
    """The one format that recognises this file."""
    _refuse_empty(raw)
    known_formats = formats(profile_dirs)
    matches = [fmt for fmt in known_formats if fmt.detect(raw)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = " and ".join(f.name for f in matches)
        raise DataError(f"the file matches more than one format: {names}", path=raw.path,
                        hint=f"choose one with --source ({names.replace(' and ', ' or ')})")
    from importers.sheets import is_sheet, sheet_head

    sheet = is_sheet(raw)
    _refuse_archive(raw)
    _refuse_unmarked_utf16(raw)
    if raw.looks_binary and not sheet:
        raise DataError("this is a binary file, not a text export", path=raw.path,
                        hint="export the statement as CSV and import that")
    tried = ", ".join(f.name for f in known_formats)
    if sheet:
        rows = [r for r in sheet_head(raw) if any(c.strip() for c in r)]
        _refuse_resaved_sheet(raw, rows, known_formats)
        first = ",".join(rows[0]).rstrip(",")[:120] if rows else ""
    else:
        first = raw.head_lines[0][:120] if raw.head_lines else ""
        _refuse_rows_in_one_cell(raw, known_formats)
    hint = f"formats tried: {tried}. Force one with --source NAME, or run `ledger formats` " \
        "to see what each expects"
    if sheet or not first.lstrip("\ufeff \t").startswith(("<", "{", ":")):  # a table
        hint += (". A bank statement? Add a profile: `ledger formats new "
                 f"{shlex.quote(str(raw.path))}` drafts one, edit its TODOs, then import again")
    raise DataError(f"unknown layout (first line: {first!r})", path=raw.path, line=1,
                    hint=hint)


def _refuse_archive(raw: RawFile) -> None:
    """A zip of exports (not a workbook) or a gzip file: say so, not "unknown layout"."""
    import zipfile

    if raw.data.startswith(b"\x1f\x8b"):
        raise DataError("this is a compressed (gzip) file, not an export", path=raw.path,
                        hint="decompress it (gunzip) and import the file inside")
    if not raw.data.startswith(b"PK\x03\x04"):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(raw.data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return  # damaged: the sheet reader says what it can
    if not any(n.startswith("xl/") for n in names):
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise DataError(f"this is a zip archive ({shown}), not an export", path=raw.path,
                        hint="unzip it and import the files inside, e.g. "
                        "ledger import folder/*.csv")


def _refuse_resaved_sheet(raw: RawFile, rows: list[list[str]], known: Sequence[Format]
                          ) -> None:
    """A spreadsheet whose first rows are a CSV-only format's export (a CSV opened and saved
    as a workbook): name the format and ask for its CSV, rather than "unknown layout". Read
    on the error's way only."""
    import csv

    if not rows:
        return
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    found = _only_format(raw, out.getvalue(), known)
    if found is not None:
        raise DataError(f"a spreadsheet, but its rows are {_a(found.title)}: that format "
                        "is read from its CSV file, not from a spreadsheet", path=raw.path,
                        hint="import the CSV as downloaded (a spreadsheet program re-writes "
                        "its dates and numbers when it saves; download it again if needed)")


def _refuse_unmarked_utf16(raw: RawFile) -> None:
    """UTF-16 text without its byte-order mark (ASCII as every other byte NUL) reads as
    binary: say what it is."""
    head = raw.data[:200]
    even, odd = head[0::2], head[1::2]
    if len(head) >= 8 and any(zeros.count(0) == len(zeros) and 0 not in text
                              for zeros, text in ((odd, even), (even, odd))):
        raise DataError("this is UTF-16 text without its byte-order mark", path=raw.path,
                        hint="save it again as CSV UTF-8 (or as Unicode Text, which writes "
                        "the mark), or export it again")


def _refuse_rows_in_one_cell(raw: RawFile, known: Sequence[Format]) -> None:
    """Each line one quoted cell that holds a known export's row (a CSV opened where `;` is
    the list separator, and saved: every row in column A): say so. Error's way only."""
    import csv

    lines = [line for line in raw.head_lines if line.strip()]
    if not lines or not lines[0].lstrip("\ufeff").startswith('"'):
        return
    cells = [next(csv.reader([line.lstrip("\ufeff")]), []) for line in lines]
    if any(len(row) > 1 for row in cells[:1]) or not cells[0] or "," not in cells[0][0]:
        return
    inner = "\n".join(row[0] if len(row) == 1 else ",".join(row) for row in cells)
    found = _only_format(raw, inner, known)
    if found is not None:
        raise DataError(f"each row is one quoted cell holding {_a(found.title)} row: a "
                        "spreadsheet put every row in one column and saved it", path=raw.path,
                        line=1, hint="import the export as downloaded (download it again if "
                        "needed)")


def _only_format(raw: RawFile, text: str, known: Sequence[Format]) -> Format | None:
    """The one format `text` (what `raw` holds, as a CSV export's text) is detected as; None
    for none or several. Error's way only."""
    from importers.raw_files import RawFile

    as_csv = RawFile(path=raw.path, data=text.encode(), sha256="")
    found = [fmt for fmt in known if fmt.detect(as_csv)]
    return found[0] if len(found) == 1 else None


def _a(title: str) -> str:
    return ("an " if title[:1].upper() in "AEIOU" else "a ") + title


def _refuse_empty(raw: RawFile) -> None:
    if not raw.data or raw.data.isspace():  # isspace stops at the first byte: no copy
        raise DataError("the file is empty", path=raw.path,
                        hint="download the export again; it holds no bytes")


def parse(raw: RawFile, options: ImportOptions, source: str | None = None,
          profile_dirs: Sequence[Path] = (), *, fmt: Format | None = None) -> Parsed:
    """Detect (or take `source`, or `fmt` itself) and parse one file into canonical rows,
    no two of which share an id (proven here, on the file's rows as a whole, unless the
    format proved it as it made them, `Parsed.ids_distinct`: the store relies on it to add
    them without hashing their ids again)."""
    _refuse_empty(raw)
    if fmt is None:
        fmt = by_name(source, profile_dirs) if source else detect(raw, profile_dirs)
    try:
        parsed = fmt.parse(raw, options)
    except DataError as exc:
        raise _misplaced_row(raw, exc) or exc from None
    except (LookupError, ValueError) as exc:  # a column or value the layout promises is missing
        raise _damaged(raw, fmt, exc) from None
    except Exception as exc:
        import polars as pl

        if isinstance(exc, pl.exceptions.PolarsError):
            raise _damaged(raw, fmt, exc) from None
        raise
    from ledger.core import schema

    if not parsed.ids_distinct:  # else proven as they were made (Parsed.ids_distinct)
        schema.check_ids(parsed.rows, str(raw.path))  # once per file: see finalize
    if parsed.rows_read == 0:
        _refuse_unread_entries(raw, fmt)
    parsed.format = fmt.name
    parsed.import_id = raw.sha256
    if raw.decode_warning:
        parsed.warnings.append(raw.decode_warning)
    return parsed


def rows_many(raws: Sequence[RawFile], options: ImportOptions, profile_dirs: Sequence[Path] = ()
              ) -> list[pl.DataFrame | BaseException]:
    """Each file's `parse(raw, options, profile_dirs=...).rows`, or the exception that parse
    raises: the files of one detected format are read together where the format can
    (`Format.rows_many`, importers/stacked.py), the others one by one. For a research batch,
    whose files are many and small; the skipped counts and warnings are not kept."""
    found: list[pl.DataFrame | BaseException | None] = [None] * len(raws)
    groups: dict[str, tuple[Format, list[int]]] = {}
    for index, raw in enumerate(raws):
        try:
            _refuse_empty(raw)
            fmt = detect(raw, profile_dirs)
        except Exception as exc:  # the caller reports it for this file
            found[index] = exc
            continue
        groups.setdefault(fmt.name, (fmt, []))[1].append(index)
    for fmt, indices in groups.values():
        if fmt.rows_many is not None and len(indices) > 1:
            for index, rows in zip(indices, fmt.rows_many([raws[i] for i in indices], options),
                                   strict=True):
                found[index] = rows
        for index in indices:
            if found[index] is None:
                try:
                    found[index] = parse(raws[index], options, fmt=fmt).rows
                except Exception as exc:  # the caller reports it for this file
                    found[index] = exc
    return found  # type: ignore[return-value]


_ENTRY_MARKERS = re.compile(
    r"<(?:[\w.-]+:)?(?:STMTTRN|INVBANKTRAN|INCOME|(?:BUY|SELL)(?:STOCK|MF|OPT|DEBT|OTHER)"
    r"|Ntry)[\s>]|^:61:", re.M)
"""Elements and tags that are transactions in OFX, camt.05x and MT940 files."""
_TABLE_ENTRY = re.compile(
    r"(\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b|\b\d{1,2}[ -][A-Za-z]{3,9}[ -,]+\d{2,4}\b"
    r"|\b[A-Za-z]{3,9} \d{1,2},? \d{4}\b).*\d[.,]\d{2}\b|\d[.,]\d{2}\b.*"
    r"(\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b)")
"""A table line with a date and an amount: a transaction in any CSV layout."""


def _refuse_unread_entries(raw: RawFile, fmt: Format) -> None:
    """Never a silent nothing: a file that holds transactions but gave none is refused (an
    investment OFX once imported as "0 read, 0 added", exit 0). A header-only export is
    still fine: nothing in it looks like a transaction."""
    if raw.is_binary:
        return  # a spreadsheet: its importer reads the cells
    try:
        text = raw.text
    except DataError:
        return
    marker = _ENTRY_MARKERS.search(text)
    line = text.count("\n", 0, marker.start()) + 1 if marker else None
    if line is None and not text.lstrip("\ufeff \t\r\n").startswith("<"):
        for number, content in enumerate(text.splitlines()[1:], start=2):
            if _TABLE_ENTRY.search(content):
                line = number
                break
    if line is not None:
        raise DataError(f"no transactions were read as {fmt.title}, yet this line looks like "
                        "one", path=raw.path, line=line,
                        hint="the file's layout differs from what the importer expects: "
                        "please report it (the file stays out of the ledger); meanwhile try "
                        "--source with another format")


_TOTALS = re.compile(r"^[\s,;\t|\"']*(?:grand\s+|sub-?\s*)?totals?\b", re.I)
"""A row a spreadsheet (or its user) added under the table: `Total,,,1234.56`."""


def _misplaced_row(raw: RawFile, exc: DataError) -> DataError | None:
    """Where the row an importer refused is a copy of the header (two exports pasted into one
    file, a header repeated at a page break) or a totals row, the error that says so: the
    importer's own (a date 'Date', a date 'Total') does not. Read on the error's way only."""
    if exc.line is None or exc.line < 2 or raw.is_binary or str(raw.path) != exc.path:
        return None
    lines = raw.head_lines  # (a header is in the head)
    if not lines or lines[0].lstrip("\ufeff \t").startswith(("<", ":", "{")):
        return None  # (XML, OFX, MT940: their lines repeat without being a table's header)
    refused = _line_at(raw, exc.line)
    if refused is None or not any(mark in refused for mark in ",;\t|"):
        return None

    def folded(line: str) -> str:
        return re.sub(r"[\s\"'\ufeff]", "", line).lower().rstrip(",;\t|")

    row = folded(refused)
    header = next((number for number, line in enumerate(lines[:exc.line - 1], 1)
                   if row and folded(line) == row), None)
    if header is not None and not _TABLE_ENTRY.search(lines[header - 1]):  # (a data row
        # again, say its balance's, is not a header)
        return DataError(f"this row repeats the header (line {header}): two exports pasted "
                         "into one file, or a page's header", path=exc.path, line=exc.line,
                         hint="import each export on its own, as downloaded (rows two exports "
                         "share are added once), or delete this line")
    found = _TOTALS.match(refused)
    if found:
        return DataError("this is a totals row, not a transaction", path=exc.path,
                         line=exc.line, hint="delete the row (a spreadsheet program or its "
                         "user added it), or import the export as downloaded")
    return None


def _line_at(raw: RawFile, number: int) -> str | None:
    """Line `number` of `raw`: from the head where it is there, else found in the bytes (a
    file's text is not decoded and split whole on an error's way: a 1 GiB file)."""
    head = raw.head_lines
    if number < len(head) or raw.data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # (UTF-16: small)
        if number >= len(head):
            try:
                head = raw.text.splitlines()
            except DataError:
                return None
        return head[number - 1] if number <= len(head) else None
    data, start = raw.data, 0
    for _ in range(number - 1):
        start = data.find(b"\n", start) + 1
        if not start:
            return None
    end = data.find(b"\n", start)
    line = data[start:end if end >= 0 else len(data)]
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


def _damaged(raw: RawFile, fmt: Format, exc: Exception) -> DataError:
    """A file detected as `fmt` that breaks the layout in a way no check named more precisely
    (found by fuzzing damaged exports): still a clean error, never a traceback."""
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return DataError(f"does not follow the {fmt.title} layout ({detail})", path=raw.path,
                     hint="the file looks damaged or edited: download the export again; if it "
                     "is intact, please report it (and try --source with another format)")
