"""SWIFT MT940 customer statements (`.sta`, `.mt940`, `.940`), read with the `mt-940` package.

Named swift_mt940 so it does not shadow the `mt940` library. Files may hold many statements,
SWIFT envelopes (`{1:...}{4:` ... `-}`), CRLF line ends and Windows-1252 text. Every `:61:`
and balance line is checked against the MT940 layout first, so a damaged line is an error at
its line rather than a number the library half-read.

- amount: signed by the library (C and RD +, D and RC -; `Options.all()` makes a reversal of
  a credit negative, like the debit it is). RC is booked as `refund`, RD as `adjustment`.
- date: the entry (booking) date where given (the library guesses its year around New
  Year), else the value date.
- description: the `:86:` text (German `?NN` sub-fields: posting text and purpose, with the
  applicant as counterparty); without `:86:` (Wise card rows) the type code and the
  supplementary details of `:61:`.
- ref: the bank reference (`//...`), else the customer reference unless NONREF, else the
  supplementary details when they are one token (Wise puts `TRANSFER-123` / `CARD-456`
  there).
- kinds: type codes CHG/COM/BRF -> bank_fee; `:86:` with Wise's `/EXCH/rate/` -> fx
  (a conversion leg); INT -> other; the rest by `statements.bank_kind`.
- each statement: opening balance (`:60F:`/`:60M:`) + its entries = closing (`:62F:`/`:62M:`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from importers.base import Format, ImportOptions, Parsed, account_name, finalize
from importers.raw_files import RawFile
from importers.readers import LINE
from importers.statements import bank_kind, ref_key
from ledger.core.errors import DataError

SOURCE = "mt940"

FEE_TYPES = {"CHG", "COM", "BRF"}
"""SWIFT transaction type codes of charges, commission and brokerage fees."""

_TAG = re.compile(r"^:(\d{2}[A-Z]?):", re.M)
_STATEMENT_LINE = re.compile(
    r"^:61:\d{6}(\d{4}| {4})?[A-Z]?R?[CD][A-Z]?( ?\d[\d,]{0,14}(?![\d.])|\s*$)", re.I)
"""Date, optional entry date (or four spaces), mark (ASN Bank writes a letter before it),
funds code and amount (Knab writes `500` without a comma; a few banks put it on the next
line); the type code is left to the library, which accepts e.g. `S` followed by spaces."""
_BALANCE_LINE = re.compile(r"^:6[02][FM]:[CD]\d{6}[A-Z]{3}\d{1,20},\d{0,3}\s*$")
"""Mark, date, currency and amount (Rabobank pads it with zeros
beyond the 15 characters SWIFT allows)."""
_ENVELOPE_OPEN = re.compile(r"^(\{[1-3]:(\{[^{}]*\}|[^{}])*\})*\{4:[ \t]*", re.M)
r"""Blocks 1-3 then `{4:`. The two alternatives inside a block never start with the same
character, so matching is linear: `(\{[^}]*\}|[^}])*` let a `{` be read either way and took
minutes on a 94-byte line of braces."""
_ENVELOPE_CLOSE = re.compile(r"^-\}.*$|^\{5:.*$", re.M)
_WRAPPED_NUMBER = re.compile(r"^(:28C?:\d{1,5}/?)\n(\d{1,5})[ \t]*$", re.M)
"""ING NL wraps the statement number onto the next line (`:28C:0000` then `0`): one field."""
_WRAPPED_61 = re.compile(r"^:61:[^\n]*(?:\n(?!:\d{2}[A-Z]?:)[^\n]*){2,}", re.M)
"""A `:61:` field on three or more lines, which the library refuses (it allows one more)."""


def detect(raw: RawFile) -> bool:
    head = raw.head_text
    if "{4:" in head:  # the envelope's opening ends in `{4:`: else nothing to remove
        head = _ENVELOPE_OPEN.sub("", head)
    if not head.startswith(":20:") and "\n:20:" not in head:  # as `^:20:`, without a slow
        return False  # search of every line
    return bool(re.search(r"^:20:", head, re.M) and re.search(r"^:25:", head, re.M)
                and re.search(r"^:60[FM]:", head, re.M))


def parse(raw: RawFile, options: ImportOptions) -> Parsed:
    path = raw.path
    text = raw.text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ENVELOPE_CLOSE.sub("", _ENVELOPE_OPEN.sub("", text))
    layout = _layout(text, path)
    statements = _statements(text, path)
    if len(statements) != len(layout):
        raise DataError("statements could not be told apart (:20: lines)", path=path,
                        hint="the file is damaged or not MT940; if your bank wrote it this "
                        "way, please report it")
    records: list[dict[str, Any]] = []
    for index, (statement, (lines, closing_line)) in enumerate(zip(statements, layout,
                                                                   strict=True)):
        transactions = list(statement)
        if len(transactions) != len(lines):
            raise DataError(f"statement {index + 1}: {len(lines)} :61: lines but "
                            f"{len(transactions)} transactions read", path=path, line=lines[0]
                            if lines else None, hint="the file is damaged; download it again")
        _check_balance(statement, transactions, path, closing_line)
        account = str(statement.data.get("account_identification") or "")
        for transaction, line in zip(transactions, lines, strict=True):
            records.append(_record(transaction.data, account, index, line))
    return _rows(records, raw, options)


VARIANTS = ("StatementASNB", "StatementGLS")
"""The library's own `:61:` variants (ASN Bank: a letter before the mark and an IBAN as the
customer reference; GLS/Atruvia: a long customer reference), tried in turn where the
standard layout does not read a line."""


def _statements(text: str, path) -> list[Any]:
    """The library's statements, trying its `:61:` variants; what it prints or logs is
    swallowed and its errors are said in our words (never its regexes or object reprs)."""
    import mt940

    processors = {"post_transaction_details": [mt940.processors.transaction_details_post_processor]}
    first: Exception | None = None
    joined = _unwrap(text)  # only for the library: lines are counted in `text`
    for variant in (None, *VARIANTS):
        tags = {61: getattr(mt940.tags, variant)()} if variant else None
        try:
            with _quiet():
                return mt940.parse_statements(joined, processors=processors, tags=tags,
                                              options=mt940.Options.all())
        except (RuntimeError, ValueError, KeyError, IndexError, TypeError,
                AttributeError) as exc:
            first = first or exc
    raise _library_error(first, text, path)


def _unwrap(text: str) -> str:
    """ING NL wraps fields at a fixed width: a statement number on two lines is one field,
    and a `:61:` field keeps one line break, before its supplementary details (the first
    continuation starting with `/`, else the first); its other breaks are the wrap."""
    def join_61(match: re.Match) -> str:
        first, *rest = match.group(0).split("\n")
        at = next((i for i, line in enumerate(rest) if line.startswith("/")), 0)
        return first + "".join(rest[:at]) + "\n" + "".join(rest[at:])

    return _WRAPPED_61.sub(join_61, _WRAPPED_NUMBER.sub(r"\1\2", text))


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the mt-940 library: its loggers dump regexes at ERROR level (which Python's
    last-resort handler prints to stderr), and nothing it prints may reach the terminal."""
    logger = logging.getLogger("mt940")
    handler = logging.NullHandler()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _library_error(exc: Exception | None, text: str, path) -> DataError:
    """What the library could not read, as `file:line: the :NN: field '...'`."""
    args = getattr(exc, "args", ())
    tag = next((a for a in args if hasattr(a, "id") and not isinstance(a, str)), None)
    value = next((a for a in args[1:] if isinstance(a, str)), None) if len(args) > 1 else None
    hint = "the file is damaged or not an MT940 statement; if your bank wrote it this way, " \
        "please report it"
    if tag is not None and value:
        first_line = value.strip().splitlines()[0] if value.strip() else value
        field = re.search(rf"^:{tag.id}[A-Z]?:{re.escape(first_line.strip())}", text, re.M)
        where = field.start() if field else text.find(first_line) if first_line else -1
        line = text.count("\n", 0, where) + 1 if where >= 0 else None
        return DataError(f"the :{tag.id}: field {first_line[:60]!r} could not be read",
                         path=path, line=line, hint=hint)
    return DataError("not a readable MT940 statement", path=path, hint=hint)


def _layout(text: str, path) -> list[tuple[list[int], int | None]]:
    """Per statement: the line of each :61: and of the closing balance; checks each line."""
    layout: list[tuple[list[int], int | None]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        tag = _TAG.match(line)
        if not tag:
            continue
        name = tag.group(1)
        if name == "20":
            layout.append(([], None))
        elif not layout:
            continue
        elif name == "61":
            if not _STATEMENT_LINE.match(line):
                raise DataError(f"statement line {line[:60]!r} does not follow the MT940 "
                                "layout", path=path, line=number,
                                hint="expected :61:YYMMDD[MMDD]C|D amount,decimals type code "
                                "(e.g. :61:2406030603C250,00NTRFNONREF); the file is damaged")
            layout[-1][0].append(number)
        elif name in ("60F", "60M", "62F", "62M"):
            if not _BALANCE_LINE.match(line):
                raise DataError(f"balance line {line[:60]!r} does not follow the MT940 layout",
                                path=path, line=number,
                                hint="expected C|D YYMMDD currency amount with a decimal "
                                "comma (e.g. :62F:C240605EUR1472,16); the file is damaged")
            if name.startswith("62"):
                layout[-1] = (layout[-1][0], number)
    if not layout:
        raise DataError("no statement (:20:) found", path=path,
                        hint="this does not look like an MT940 file")
    return layout


def _check_balance(statement: Any, transactions: list[Any], path, line: int | None) -> None:
    data = statement.data
    opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    closing = data.get("final_closing_balance") or data.get("intermediate_closing_balance")
    if opening is None or closing is None:
        return
    total = sum((t.data["amount"].amount for t in transactions), Decimal(0))
    if opening.amount.amount + total != closing.amount.amount:
        raise DataError(
            f"closing balance {closing.amount.amount} is not the opening balance "
            f"{opening.amount.amount} plus the entries ({total:+})", path=path, line=line,
            hint="the statement is truncated, edited or misread; download it again")


def _record(data: dict[str, Any], account: str, statement: int, line: int) -> dict[str, Any]:
    details = data.get("transaction_details")
    if details:
        details = re.sub(r"\s+", " ", details).strip()
    structured = " - ".join(p for p in (data.get("posting_text"), data.get("purpose")) if p)
    extra = (data.get("extra_details") or "").strip()
    type_code = data.get("id") or ""
    customer = data.get("customer_reference")
    ref = (data.get("bank_reference") or (customer if customer and customer.upper() != "NONREF"
                                          else None) or (extra if extra and " " not in extra
                                                         else None))
    fallback = " ".join(p for p in (type_code, extra) if p) or "(no details)"
    if details and re.fullmatch(r"/EXCH/[\d,.]+/", details):
        details = f"{fallback} {details}"  # Wise: the rate is all :86: says
    date = data.get("guessed_entry_date") or data.get("entry_date") or data["date"]
    amount = data["amount"]
    return {
        "_stmt": statement, "_account": account, LINE: line,
        "date": date, "amount": amount.amount,
        "currency": amount.currency or data.get("currency"),
        "description": structured or details or fallback,
        "counterparty": data.get("applicant_name") or None,
        "ref": ref, "_status": (data.get("status") or "").upper(),
        "_type": type_code[1:].upper(), "_exch": bool(details and "/EXCH/" in details),
    }


def _rows(records: list[dict[str, Any]], raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    schema = {"_stmt": pl.Int64, "_account": pl.String, LINE: pl.Int64, "date": pl.Date,
              "amount": pl.Decimal(38, 4), "currency": pl.String, "description": pl.String,
              "counterparty": pl.String, "ref": pl.String, "_status": pl.String,
              "_type": pl.String, "_exch": pl.Boolean}
    df = pl.DataFrame(records, schema=schema, orient="row") if records else pl.DataFrame(
        schema=schema)
    kind, category = bank_kind(pl.col("amount"),
                               pl.concat_str(["counterparty", "description"], separator=" ",
                                             ignore_nulls=True),
                               fee=pl.col("_type").is_in(sorted(FEE_TYPES)),
                               other=pl.col("_type") == "INT")
    status = pl.col("_status")
    df = df.with_columns(
        kind=pl.when(status == "RC").then(pl.lit("refund"))
        .when(status == "RD").then(pl.lit("adjustment"))
        .when(pl.col("_exch")).then(pl.lit("fx")).otherwise(kind),
        category=pl.when(status.is_in(["RC", "RD"])).then(pl.lit("reversal"))
        .when(pl.col("_exch")).then(pl.lit("conversion"))
        .otherwise(pl.coalesce(category, pl.col("_type").str.to_lowercase())),
        contract=pl.lit(None, dtype=pl.String),
        related_ref=pl.lit(None, dtype=pl.String),
        hours=pl.lit(None, dtype=pl.Float64),
    )
    key = ref_key("ref", ["date", "amount", "currency", "description"])
    frames = []
    for (account,), part in df.group_by("_account", maintain_order=True):
        frames.append(finalize(part, raw, source=SOURCE, account=_account(account, options),
                               key=key))
    if not frames:
        frames.append(finalize(df, raw, source=SOURCE, account=options.account or SOURCE))
    return Parsed(rows=pl.concat(frames), format=SOURCE, rows_read=df.height)


def _account(identification: str | None, options: ImportOptions) -> str:
    return options.account or account_name(SOURCE, identification)


FORMATS = [
    Format(
        name="mt940",
        title="SWIFT MT940 bank statement",
        fingerprint="lines :20:, :25: and :60F:/:60M: (SWIFT envelope allowed)",
        detect=detect,
        parse=parse,
    ),
]
