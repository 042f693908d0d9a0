"""What a research batch says about a file it could not read: an error class, never the error.

An exception's text can quote what a file holds (a first line, a bad value, an OFX field with
a name and a phone number), and no scrubber can be trusted to remove all of it: a line with
both quote kinds defeats quote matching. So the batch never writes or prints an exception's
text. `classify` maps an error to one of `CLASSES` (a fixed code, our own words and a hint)
by looking at our own message templates, and DIR/errors.csv and the terminal get only that
class, the file's pseudonym (or, on the terminal, its path) and the line number. The worst a
hostile file can do is pick the wrong class from this table: the output is built only from
strings in this module, integers and the caller's paths.

Matching is plain substring tests on the lower-cased message (no regex: the message may hold
the file's text), most specific first; the first class whose any marker occurs wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.core.errors import LedgerError


@dataclass(frozen=True)
class ErrorClass:
    code: str
    text: str
    """What went wrong, in our words (published in errors.csv)."""
    hint: str
    """What to do (errors.csv's `hint`; the terminal's, with DETAILS where `details`)."""
    markers: tuple[str, ...] = ()
    """Lower-case substrings of our own messages that put an error in this class."""
    details: bool = True
    """Whether `ledger import FILE --dry-run` shows more (False: not an export, e.g.
    ledger.toml or country.txt, and the hint says all there is)."""


DETAILS = "`ledger import FILE --dry-run` on this file alone shows the details"
DATE_ORDER_HINT = ("say which: --date-order mdy (06/28/2024, Payoneer's own export) or dmy "
                   "(28/06/2024) for the batch, or the manifest's date_order column for this "
                   "worker or file")
"""What settles a file's ambiguous dates (importers.base.UnsettledDates) in a batch."""

CLASSES: tuple[ErrorClass, ...] = (
    ErrorClass("not_regular_file", "not a regular file (a pipe, device or socket): not read",
               "give the export file itself", ("not a regular file",)),
    ErrorClass("too_large", "the file is larger than the most ledger reads from one file",
               "split the export by date range", ("larger than the",)),
    ErrorClass("sheet_too_large", "the spreadsheet exceeds the size limits for a statement",
               "export the statement as CSV, or a shorter date range",
               ("spreadsheet is too large", "sheet is too large", "expands to")),
    ErrorClass("resaved", "the export was re-saved by hand or by a spreadsheet program (a "
               "row repeats the header or an earlier row, a totals row, every row in one "
               "cell, a workbook holding a CSV export)", "ask the worker for the export as "
               "downloaded", ("repeats the header", "totals row", "one quoted cell",
                              "but its rows are", "money would be counted twice")),
    ErrorClass("archive", "a zip or gzip archive, not an export",
               "unzip it and put the exports themselves in the worker's folder",
               ("zip archive", "(gzip) file")),
    ErrorClass("sheet_unreadable", "the spreadsheet cannot be read",
               "save it again as .xlsx or export the statement as CSV",
               ("as a spreadsheet", "spreadsheet")),
    ErrorClass("empty", "the file is empty", "download the export again",
               ("the file is empty",)),
    ErrorClass("binary", "a binary file, not a text export",
               "export the statement as CSV", ("binary file",)),
    ErrorClass("encoding", "the text encoding cannot be read",
               "save the file as UTF-8 text",
               ("cannot be read as utf-8", "not utf-8", "not readable text",
                "byte-order mark")),
    ErrorClass("unknown_layout", "the layout matches no format or bank profile ledger knows",
               "draft a bank profile for it (`ledger formats new FILE`) and put it in the "
               "worker's profiles/ folder", ("unknown layout", "not a timesheet")),
    ErrorClass("ambiguous_format", "the file matches more than one format",
               "`ledger import FILE --dry-run` names them; batch cannot force one: leave the "
               "file out", ("more than one format",)),
    ErrorClass("profile", "a bank profile in the worker's folder is not usable",
               "fix or remove the profile in the worker's profiles/ folder",
               ("profile",)),
    ErrorClass("config", "the worker's ledger.toml is not usable",
               "fix it at the line shown, if one is (it is checked as `ledger` checks yours: "
               "README, \"Where the ledger lives\", lists its keys), or remove it; the worker "
               "is counted without it", ("ledger.toml", "toml"), details=False),
    ErrorClass("country", "the country is not a two-letter ISO code; counted as unknown",
               "give the worker's country as a two-letter ISO code (e.g. PK) in country.txt "
               "or the manifest", ("two-letter iso code",), details=False),
    ErrorClass("missing_file", "no such file or folder", "check the manifest's paths",
               ("no such file",)),
    ErrorClass("cannot_open", "the file cannot be opened", "check its permissions",
               ("cannot read:",)),
    ErrorClass("ragged_row", "a row has a different number of cells than the header",
               "the file looks truncated or edited: download the export again",
               ("cells, fewer than", "cells, more than")),
    ErrorClass("missing_column", "a column the format needs is missing",
               "download the export again with all its columns",
               ("is missing", "lacks column", "columns are")),
    ErrorClass("not_a_number", "an amount or number is not a number",
               "correct the value or download the export again",
               ("not a number", "decimal comma", "more decimals")),
    ErrorClass("no_rate", "an exchange rate is missing", "the bundled rates do not cover "
               "this currency or date", ("rate for", "rate to", "rate near", "reference rate",
                                         "lack a rate", "online rate")),
    ErrorClass("ambiguous_date", "the numeric dates could be day-first or month-first: no "
               "day is above 12", DATE_ORDER_HINT, ("could be day-first or month-first",)),
    ErrorClass("not_a_date", "a date is not in the expected form",
               "correct the date, or download the export again (dates mixing day-first and "
               "month-first forms mean an edited file)",
               ("not a date", "not an ofx date", "is not in the form", "day-first")),
    ErrorClass("currency", "a currency code is unknown or missing",
               "correct the currency code", ("currency",)),
    ErrorClass("balance", "the running balance does not add up",
               "the file may be missing rows: download the export again", ("balance",)),
    ErrorClass("duplicate_id", "two rows share one transaction id",
               "download the export again", ("share the id",)),
    ErrorClass("damaged_csv", "the file cannot be read as CSV",
               "download the export again", ("cannot read as csv",)),
    ErrorClass("bad_xml", "the XML is not well-formed or not a statement",
               "download the statement again", ("xml", "camt")),
    ErrorClass("bad_ofx", "the file is not a valid OFX statement",
               "download the statement again", ("ofx", "trnamt", "trntype", "dtposted")),
    ErrorClass("bad_mt940", "the file is not a readable MT940 statement",
               "download the statement again", ("mt940", ":61:")),
    ErrorClass("layout_broken", "the file does not follow its format's layout",
               "the file looks damaged or edited: download the export again",
               ("does not follow the",)),
    ErrorClass("no_transactions", "no transactions could be read for this worker",
               "see the worker's other errors",
               ("no export could be read", "only timesheets", "hold no transactions")),
    ErrorClass("hours", "a timesheet cannot be read", "check the timesheet's columns",
               ("timesheet", "hours")),
)

UNREADABLE = ErrorClass("unreadable", "the file cannot be read", DETAILS)
"""A LedgerError no class names more precisely."""

UNEXPECTED = ErrorClass("unexpected", "ledger failed on this file (a bug)",
                        "please report it with the file if you may share it")
"""Anything that is not a LedgerError: a bug, reported by its type only."""

BY_CODE = {c.code: c for c in (*CLASSES, UNREADABLE, UNEXPECTED)}


def classify_message(message: str) -> ErrorClass:
    """The class of one of our messages (which may quote the file: only looked at)."""
    lowered = message.lower()
    for error_class in CLASSES:
        if any(marker in lowered for marker in error_class.markers):
            return error_class
    return UNREADABLE


def classify(exc: BaseException) -> tuple[ErrorClass, int | None]:
    """(class, line) of an error; the line only if it is a whole number."""
    from importers.base import UnsettledDates

    if not isinstance(exc, LedgerError):
        return UNEXPECTED, None
    line = exc.line if isinstance(exc.line, int) and not isinstance(exc.line, bool) else None
    if isinstance(exc, UnsettledDates):  # by type: the message quotes a cell of the file
        return BY_CODE["ambiguous_date"], line
    return classify_message(exc.message), line


def terminal_line(where: str, line: int | None, error_class: ErrorClass,
                  detail: str = "") -> str:
    """`path:line: text [code]` and a hint, for the researcher's terminal: the real path (the
    researcher has the files) but, as in errors.csv, no text from the file. `detail` is ours
    too (an exception's type name)."""
    place = f"{where}:{line}" if line is not None else where
    extra = f" ({detail})" if detail else ""
    hint = f"{error_class.hint}; {DETAILS}" if error_class.details and \
        error_class is not UNREADABLE else error_class.hint
    return f"{place}: {error_class.text}{extra} [{error_class.code}]\n  hint: {hint}"
