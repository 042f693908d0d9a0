"""Draft a bank profile from a statement the user has, for `ledger formats new FILE`.

Writing a profile from scratch means knowing the TOML keys and strftime codes; reading the
file's own header and values gets most of it right. The draft finds the header (the first
of the first 50 lines with a date-like and an amount/debit/credit-like column), maps columns
by keywords, proposes a date format and decimal mark from sampled values and marks with
`TODO` whatever it could not decide (day-first or month-first, decimal mark, currency). The
user edits the TODOs and drops the file into `<ledger dir>/profiles/`.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from importers.raw_files import SCAN_LINES, RawFile, normalize, sniff_delimiter, split_line
from importers.sheets import is_sheet
from ledger.core.errors import DataError

SAMPLE_ROWS = 500
"""Rows after the header sampled for date and number forms."""

KEYWORDS: dict[str, tuple[str, ...]] = {
    "value_date": (r"^value ?(date|dt|dat)\.?$",),
    "date": (r"^(txn|tran|transaction|posting|post|book|booking)\.? ?date$", r"^date$",
             r"^timestamp$", r"date", r"^time$"),
    "description": (r"narration", r"description", r"particulars", r"remarks", r"details",
                    r"memo", r"^type$"),
    "marker": (r"^(dr ?[/|] ?cr|cr ?[/|] ?dr)$", r"credit/debit indicator",
               r"debit/credit indicator"),
    "debit": (r"^(dr|debit)$", r"debit", r"withdrawal", r"paid out", r"money out"),
    "credit": (r"^(cr|credit)$", r"credit", r"deposit", r"paid in", r"money in"),
    "balance": (r"balance", r"^bal$"),
    "amount": (r"amount",),
    "ref": (r"ref", r"chq", r"cheque", r"check", r"utr"),
    "currency": (r"^currency$", r"^ccy$"),
}
"""Field -> patterns on normalised header cells, best first."""

DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d/%m/%y", "%m/%d/%y", "%d-%m-%Y", "%m-%d-%Y",
                "%d-%m-%y", "%d.%m.%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d",
                "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y",
                "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")
"""Candidate date forms, tried against the sampled date cells."""

PSEUDO_ROWS = ("opening balance", "closing balance", "brought forward", "carried forward",
               "transaction total", "b/f", "c/f")
"""Descriptions of rows that are not transactions; the draft skips those it sees."""

CURRENCY_HINTS = (
    (r"\b(HDFC|ICIC|SBIN|UTIB|KKBK|IDFB|YESB|PUNB|BARB|CNRB)0|\bIFSC?\b|₹|\bINR\b", "INR"),
    (r"\bPKR\b|\bRs\.|NayaPay|Meezan|\bIBAN\b.*\bPK\d", "PKR"),
    (r"\bPHP\b|₱|BDO|BPI", "PHP"),
    (r"\bBDT\b|৳", "BDT"),
    (r"\bNGN\b|₦", "NGN"),
    (r"\bKES\b|KSh", "KES"),
)


def starter_profile(raw: RawFile) -> str:
    """A commented TOML profile for the layout of `raw`, with TODOs where it had to guess."""
    rows = _rows(raw)
    index = next((i for i, cells in enumerate(rows[:SCAN_LINES]) if _is_header(cells)), None)
    if index is None:
        raise DataError(
            "no header row with a date column and amount, debit or credit columns in the "
            f"first {SCAN_LINES} lines", path=raw.path, line=1,
            hint="open the file and check it is a statement table; the profile format is "
            "described at the top of importers/bank.py")
    header = [c.strip() for c in rows[index]]
    names = [normalize(c) for c in header]
    mapping = _map(names)
    body = [r for r in rows[index + 1:index + 1 + SAMPLE_ROWS] if any(c.strip() for c in r)]

    def values(field: str) -> list[str]:
        at = mapping.get(field)
        return [] if at is None else [r[at].strip() for r in body if len(r) > at and
                                      r[at].strip()]

    dates, date_todo = _date_formats(values("date"))
    mark, mark_todo = _decimal_mark(values("amount") + values("debit") + values("credit")
                                    + values("balance"))
    before = "\n".join(",".join(r) for r in rows[:index])
    currency, currency_todo = _currency(before + "\n" + "\n".join(",".join(r) for r in body))
    stem = re.sub(r"[^a-z0-9]+", "-", raw.path.stem.casefold()).strip("-") or "mybank"
    pseudo = [p for p in PSEUDO_ROWS if any(p in v.casefold() for v in values("description"))]

    shown = raw.path.name if raw.path.name.isprintable() else _q(raw.path.name)  # a newline
    out = [  # in a file name must not end the comment and start a line of TOML
        f"# Draft profile for {shown}, made by `ledger formats new`.",
        "# Check every line, settle the TODOs, then save it as <ledger dir>/profiles/NAME.toml.",
        "# The format is described at the top of importers/bank.py.",
        f"name = {_q(stem)}  # TODO: a short lower-case name; rows get source bank:<name>",
        f"title = {_q(f'{stem} bank statement')}  # TODO: bank and export, as `ledger formats` "
        "shows it",
        'country = ""  # TODO: ISO 3166 code, e.g. PK, IN, PH',
        f"currency = {_q(currency)}" + (f"  # TODO: {currency_todo}" if currency_todo else ""),
        "",
        "[detect]",
        "# every cell of the header row: the file is this bank's when all are present",
        f"header = [{', '.join(_q(h) for h in header if h)}]",
        "",
        "[read]",
        f"header_scan = {SCAN_LINES}",
    ]
    if pseudo:
        out.append("# rows that are not transactions (their balance is still checked)")
        out.append(f"skip_rows_matching = [{', '.join(_lit(p) for p in pseudo)}]")
    if not is_sheet(raw) and re.search(r'"[ \t]+[,;\t]', raw.head_text):
        out.append("# values are quoted with spaces after the closing quote: read them with")
        out.append("# Python's csv module (fine for statements, slow for huge files)")
        out.append("line_by_line = true")
    if _too_wide(rows[index + 1:], len(header)):
        out.append("# TODO: some rows have more cells than the header: unquoted numbers "
                   "such as 1,770.00?")
        out.append("rejoin_split_numbers = true")
    out += ["", "[columns]"]
    missing = []
    for field in ("date", "value_date", "description", "ref", "amount", "marker", "debit",
                  "credit", "balance", "balance_marker", "currency"):
        if field in mapping:
            out.append(f"{field} = {_q(_column(header, names, mapping[field]))}")
        elif field in ("date", "description"):
            missing.append(field)
    for field in missing:
        out.append(f'# TODO: which column is the {field}? {field} = "..."')
    out += ["", "[values]", f"date_format = [{', '.join(_q(f) for f in dates)}]"
            + (f"  # TODO: {date_todo}" if date_todo else ""),
            f"decimal_mark = {_q(mark)}" + (f"  # TODO: {mark_todo}" if mark_todo else "")]
    if "marker" in mapping:
        seen = sorted({v.casefold() for v in values("marker")})
        debit = [v for v in seen if v.startswith("d")] or ["dr", "debit"]
        credit = [v for v in seen if v.startswith("c")] or ["cr", "credit"]
        out.append(f"debit_markers = [{', '.join(_q(v) for v in debit)}]")
        out.append(f"credit_markers = [{', '.join(_q(v) for v in credit)}]")
    out += ["", "# Rules that say what rows are, first match wins, before the common rules",
            "# (platform receipts, taxes, charges, cash, outgoing transfers). For example:",
            "# [[kinds]]", "# match = 'client name|invoice'", '# sign = "credit"',
            '# kind = "earning"', ""]
    return "\n".join(out)


def _rows(raw: RawFile) -> list[list[str]]:
    if is_sheet(raw):
        from importers.sheets import sheet_head

        return sheet_head(raw)
    lines = raw.text.split("\n", SCAN_LINES + SAMPLE_ROWS)[:SCAN_LINES + SAMPLE_ROWS]
    return [split_line(line.rstrip("\r"), sniff_delimiter(line)) if line.strip() else []
            for line in lines]


def _is_header(cells: list[str]) -> bool:
    names = [normalize(c) for c in cells]
    has_date = any(re.search(r"date|timestamp", n) for n in names)
    money = [n for n in names if re.search(r"amount|debit|credit|withdrawal|deposit|^dr$|^cr$",
                                           n)]
    return has_date and bool(money) and not any(re.search(r"\d{2}[/-]\d{2}", n) for n in names)


def _map(names: list[str]) -> dict[str, int]:
    """Field -> column index, each column used once, fields in KEYWORDS order."""
    taken: set[int] = set()
    mapping: dict[str, int] = {}
    for field, patterns in KEYWORDS.items():
        for pattern in patterns:
            hit = next((i for i, n in enumerate(names)
                        if i not in taken and n and re.search(pattern, n)), None)
            if hit is not None:
                mapping[field] = hit
                taken.add(hit)
                break
    if "debit" in mapping and "credit" in mapping:
        mapping.pop("amount", None)
        mapping.pop("marker", None)
    else:
        mapping.pop("debit", None)
        mapping.pop("credit", None)
    markers = [i for i, n in enumerate(names) if re.search(KEYWORDS["marker"][0], n)]
    if "balance" in mapping and len(markers) > 1:
        mapping["marker"] = markers[0]
        mapping["balance_marker"] = markers[1]
    return mapping


def _column(header: list[str], names: list[str], at: int) -> str:
    """The header text for column `at`; a repeated header's later copy is `NAME#n`."""
    copies = names[:at + 1].count(names[at])
    return header[at] if copies == 1 else f"{header[at]}#{copies}"


def _date_formats(samples: list[str]) -> tuple[list[str], str | None]:
    def fits(fmt: str, value: str) -> bool:
        try:
            return dt.datetime.strptime(value, fmt).year >= 1900
        except ValueError:
            return False

    dated = [v for v in samples if any(fits(f, v) for f in DATE_FORMATS)]
    if not dated:
        return ["%d/%m/%Y"], ("no date form recognised in the date column; write the "
                              "bank's form with strftime codes")
    fitting = [f for f in DATE_FORMATS if all(fits(f, v) for v in dated)]
    if not fitting:
        first = next(f for f in DATE_FORMATS if fits(f, dated[0]))
        return [first], "dates are written in more than one form; list each form"
    best = fitting[0]
    swapped = best.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    if swapped != best and swapped in fitting:
        return [best], (f"dates such as {dated[0]!r} could be day-first ({best}) or "
                        f"month-first ({swapped}); keep the bank's one")
    return [best], None


def _decimal_mark(samples: list[str]) -> tuple[str, str | None]:
    from ledger.core.money import detect_decimal_mark

    try:
        mark = detect_decimal_mark(samples)
    except ValueError:
        return ".", "numbers use both '.' and ',' as decimal mark: which one?"
    if mark:
        return mark, None
    if any(re.search(r"\d[.,]\d{3}(?!\d)", v) for v in samples):
        return ".", "numbers such as 1,234 could use either mark: which is the decimal one?"
    return ".", None


def _currency(text: str) -> tuple[str, str | None]:
    for pattern, code in CURRENCY_HINTS:
        if re.search(pattern, text):
            return code, None
    return "USD", "the account's currency (ISO 4217, e.g. PKR, INR, PHP)"


def _too_wide(rows: list[list[str]], width: int) -> bool:
    return any(len(r) > width and any(c.strip() for c in r) for r in rows[:SAMPLE_ROWS])


def _q(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but for DEL, which TOML forbids raw.
    File names and header cells are quoted, so a newline in one cannot start a TOML line."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _lit(pattern: str) -> str:
    return f"'{pattern}'"
