"""Bank statements read through declarative profiles: one TOML file per bank layout.

Banks' CSV/XLS(X) exports differ only in which column holds what, how dates and amounts are
written and what surrounds the table, so a layout is data, not code: a user adds their bank by
dropping a profile into `<ledger dir>/profiles/` (`ledger formats new FILE` drafts one, see
profile_starter.py). Bundled profiles live in importers/profiles/; a user profile with the
same `name` replaces the bundled one. A profile:

    name = "hdfc"                 # format and source name become `bank:hdfc`
    title = "HDFC Bank account statement (netbanking CSV)"
    country = "IN"                # ISO 3166 code, informative
    currency = "INR"              # ISO 4217: every row's currency unless a `currency` column
    account = "bank:hdfc"         # default account (optional); `--account` overrides it
    common_kinds = true           # also apply COMMON_KINDS after the profile's own [[kinds]]

    [detect]                      # the file is this bank's when ALL of these hold:
    header = ["Date", "Narration", "Closing Balance"]   # cells the header row contains
    without = ["Branch"]          # optional: cells it must not contain (tells layouts apart)
    preamble = "HDFC0"            # optional regex, searched in the lines above the header
    filename = "*.csv"            # optional glob on the file name (case-insensitive)

    [read]
    header_scan = 50              # lines (sheet rows) searched for the header row, at most 50
    skip_rows_matching = ["^opening balance$"]  # rows with a cell (trimmed) matching one:
                                  # pseudo-rows, not booked, their balance still checked
    footer = true                 # rows after the last dated row are a footer (totals,
                                  # `** End of Report **`, legal text) and are ignored
    line_by_line = false          # read with Python's csv module: quoting polars refuses
                                  # (Meezan's `"06/02/2025" ,`); for small files only
    rejoin_split_numbers = false  # SBI's unquoted `1,770.00` arrives as `1` and `770.00`;
                                  # in a file without quotes only the rows with too many
                                  # cells go through Python, else every row does

    [columns]                     # field = header text as in the file; a repeated header's
    date = "Date"                 # second copy is "NAME#2". date and description required
    description = "Narration"     # a list is joined with " - "
    amount = "Amount"             # EITHER one amount (signed, or signed by `marker`) ...
    marker = "Dr / Cr"            #   ... whose Dr/Cr marker gives its sign
    debit = "Withdrawal Amt."     # OR unsigned debit and credit columns:
    credit = "Deposit Amt."       #   signed amount = |credit| - |debit|; both set is an error
    balance = "Closing Balance"   # optional running balance, checked row by row
    balance_marker = "Dr / Cr#2"  # optional Dr/Cr of the balance (Dr = overdrawn, negative)
    ref = "Chq./Ref.No."          # optional bank reference
    value_date = "Value Dt"       # optional; checked to be a date, not stored (no such column)
    currency = "Currency"         # optional per-row currency (blank = profile currency)

    [values]
    date_format = ["%d/%m/%y", "%d/%m/%Y"]  # strftime codes, one or a list; day-first and
                                  # month-first forms of one shape may not be mixed
    decimal_mark = "."            # or ","; `--decimal-mark` overrides
    debit_markers = ["dr", "debit"]    # marker texts meaning money out (case-insensitive)
    credit_markers = ["cr", "credit"]  # ... and money in
    ref_pattern = 'STAN \\((\\d+)\\)'     # optional regex on the description: group 1 = ref
    counterparty_pattern = "from (.+)"  # optional regex on the description: group 1

    [[kinds]]                     # first rule that matches wins (case-insensitive regex on
    match = "payoneer|wise"       # the description; omit `match` to match every row)
    sign = "credit"               # optional: only money in ("credit") or out ("debit")
    kind = "transfer"             # one of ledger.schema.KINDS
    category = "receipt"          # optional finer label

    [[split]]                     # a row whose description names several amounts
    amount = 'CHG:PKR\\s*([\\d,.]+)'  # regex, group 1 = one part's amount
    kind = "bank_fee"
    category = "card_charge"

Every regex in a profile matches case-insensitively and must suit both Python's `re` and
polars (Rust regex: no look-around, no back-references); a profile that breaks this is refused
when loaded. Amounts go through ledger.money.amount_expr, so `1,23,456.78`, `(12.34)`,
`12.34-`, `12.34 Dr` and currency prefixes need no settings. A bad date, number, marker or
missing header is a DataError at its line; a bad profile is a UsageError naming the file.

Splits: Meezan books a card purchase's charges as a separate debit described
`CHG:PKR68.69 FBRTax:PKR85.86-STAN (447959)`. Each [[split]] part becomes its own row (the
bank charge `bank_fee`, the FBR withholding `tax`), signed like the row, with `related_ref`
= the row's ref (the STAN, which is also the purchase's ref) and no ref of its own. Whatever
the parts leave of the row's amount stays a row classified by [[kinds]]; parts larger than the
row are an error. The running balance is checked on the bank's rows, before splitting.

Footers: the footer starts after the last row (of the last 200 lines) whose date cell parses
or merely looks like a date: a row dated `31/04/24` is reported, never dropped as footer, and
an undated row before a dated one is an error, not a silent stop. The profile states the
bank's date form, so `--date-order` is not consulted; `--decimal-mark` overrides the
profile's. A ref cell of only `-` or zeros (Axis, HDFC placeholders) is no ref.

Spreadsheets (.xlsx/.xls, told by their magic bytes) are read with fastexcel (calamine) as
all-string cells, not polars.read_excel, which drops empty rows: keeping them makes `line`
the sheet row. Detection reads a sheet's first 50 rows (memoised per file); a real date cell
reads as `2024-04-01 00:00:00`, which every profile then accepts besides its own forms.

Row ids hash (date, amount, currency, description, ref, balance, split part, n-th
occurrence): bank refs are often blank or repeated (`0000000000`), and the balance tells
identical rows apart across overlapping exports.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import io
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, AnyStr

from importers.base import (
    Format,
    ImportOptions,
    Parsed,
    check_running_balance,
    finalize,
    first_bad,
    nonblank,
    parse_money,
    parse_money_columns,
)
from importers.readers import (
    LINE,
    SCAN_LINES,
    RawFile,
    _unique,
    normalize,
    read_table,
    sniff_delimiter,
    split_line,
)
from ledger.errors import DataError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import polars as pl

PROFILES_DIR = Path(__file__).parent / "profiles"

FOOTER_MAX_LINES = 200
PROFILE_MAX_BYTES = 1024 * 1024
"""A profile is a page of TOML; a larger file in profiles/ is not one."""
"""How far back from the end a footer is looked for."""

MIN_YEAR = 1900
"""A parsed year below this means a `%Y` read a two-digit year: not a date in that form."""

PLACEHOLDER_REF = r"^[-0\s]*$"
"""Reference cells that hold no reference: `-` (Axis), `0000000000000000` (HDFC)."""

SHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
"""XLSX (a zip) and XLS (OLE2) files start with these bytes."""


@dataclass(frozen=True)
class Rule:
    """One [[kinds]] rule: rows whose description matches (and sign fits) get kind/category."""

    match: str | None
    sign: str | None
    kind: str
    category: str | None


COMMON_KINDS: tuple[Rule, ...] = (
    Rule(r"payoneer|paypal|\bwise\b|transferwise|upwork|fiverr|skrill|\bdeel\b", "credit",
         "transfer", "receipt"),
    Rule(r"withholding|\bw\.?h\.?t\b|\bfbr ?tax\b|\btds\b|income tax|\badv(ance)? tax\b"
         r"|\b236p\b|\b231a\b", None, "tax", "wht"),
    Rule(r"\bgst\b|excise duty", None, "tax", "gst"),
    Rule(r"\bcharges?\b|\bchgs?\b|\bfees?\b|sms alert|commission|min(imum)? bal", None,
         "bank_fee", "bank_charge"),
    Rule(r"\batm\b|cash withdrawal", "debit", "transfer", "cash_withdrawal"),
    Rule(r"\binterest\b|\bint\.? ?pd\b|payment of profit|profit paid", "credit", "other",
         "interest"),
    Rule(r"transfer to|to transfer|fund transfer|money sent|sent to|\bneft\b|\bimps\b"
         r"|\brtgs\b|\bupi\b|\braast\b|\bibft\b|instapay|pesonet", "debit", "transfer",
         "outgoing"),
    Rule(None, "credit", "other", "credit"),
    Rule(None, "debit", "other", "debit"),
)
"""Rules every profile gets after its own (unless `common_kinds = false`): money from a
platform or wallet is the user's own (transfer/receipt), then taxes before bank charges (so
`GST on charges` is tax), cash and outgoing transfers, and `other` for the rest, which the
import warns about so the user can look. Patterns are case-insensitive."""


@dataclass(frozen=True)
class Part:
    """One [[split]] rule: group 1 of `amount` on the description is a part of the row."""

    amount: str
    kind: str
    category: str | None


@dataclass(frozen=True)
class Profile:
    """A bank layout, read from a TOML file (see the module docstring)."""

    name: str
    title: str
    country: str
    currency: str
    account: str
    path: Path
    header: tuple[str, ...]
    without: tuple[str, ...] = ()
    preamble: str | None = None
    filename: str | None = None
    header_scan: int = SCAN_LINES
    skip_rows_matching: tuple[str, ...] = ()
    footer: bool = True
    line_by_line: bool = False
    rejoin_split_numbers: bool = False
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ()
    decimal_mark: str = "."
    debit_markers: tuple[str, ...] = ("dr", "debit", "d")
    credit_markers: tuple[str, ...] = ("cr", "credit", "c")
    ref_pattern: str | None = None
    counterparty_pattern: str | None = None
    kinds: tuple[Rule, ...] = ()
    splits: tuple[Part, ...] = ()
    text: str = field(default="", compare=False, repr=False)
    """The TOML it was read from: archived with each import through a user profile, so that
    `ledger rebuild` reads the file with the profile it was imported with."""
    bundled: bool = False
    """Shipped in importers/profiles/ (versioned with the code, so not archived)."""

    @property
    def source(self) -> str:
        return f"bank:{self.name}"

    def col(self, name: str) -> str | None:
        """The normalised file column of a single-column field, or None."""
        found = self.columns.get(name)
        return found[0] if found else None

    def header_fits(self, cells: set[str]) -> bool:
        return set(self.header) <= cells and not set(self.without) & cells

    def fingerprint(self) -> str:
        text = "header has " + ", ".join(self.labels.get(h, h) for h in self.header)
        if self.without:
            text += "; not " + ", ".join(self.without)
        if self.preamble:
            text += f"; preamble matches /{self.preamble}/"
        if self.filename:
            text += f"; file name {self.filename}"
        return text + f" (profile {self.path.name})"


# --- loading profiles ------------------------------------------------------------------------

FIELDS = ("date", "description", "amount", "marker", "debit", "credit", "balance",
          "balance_marker", "ref", "value_date", "currency")
TOP_KEYS = {"name", "title", "country", "currency", "account", "common_kinds", "detect", "read",
            "columns", "values", "kinds", "split"}
SECTION_KEYS = {
    "detect": {"header", "without", "preamble", "filename"},
    "read": {"header_scan", "skip_rows_matching", "footer", "line_by_line",
             "rejoin_split_numbers"},
    "columns": set(FIELDS),
    "values": {"date_format", "decimal_mark", "debit_markers", "credit_markers", "ref_pattern",
               "counterparty_pattern"},
}


def load_profile(path: Path, *, bundled: bool = False) -> Profile:
    """Read and check one profile; any mistake is a UsageError naming the file and key.

    A bundled profile's regexes are checked by Python only: their polars check (most of the
    cost of loading, paid by every `ledger import`) is done once by the test suite instead.
    """
    from importers.readers import read_regular

    try:
        text = read_regular(path, limit=PROFILE_MAX_BYTES, what="a profile").decode("utf-8")
    except DataError as exc:  # a FIFO or a device named *.toml, or a huge file
        raise UsageError(f"cannot read profile: {exc.message}", path=path,
                         hint=exc.hint) from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"profile is not valid TOML: {exc}", path=path,
                         hint="see the profile format at the top of importers/bank.py") from None
    return profile_from_text(text, path, bundled=bundled)


def profile_from_text(text: str, path: Path, *, bundled: bool = False) -> Profile:
    """A profile from its TOML text (`path` names it in errors): a file, or an archived copy."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise UsageError(f"profile is not valid TOML: {exc}", path=path,
                         line=int(found.group(1)) if found else None,
                         hint="see the profile format at the top of importers/bank.py") from None
    return replace(_profile(data, path, check_polars=not bundled), text=text, bundled=bundled)


def _bad(path: Path, message: str) -> UsageError:
    return UsageError(f"profile: {message}", path=path,
                      hint="see the profile format at the top of importers/bank.py "
                      "or a bundled profile in importers/profiles/")


def _profile(data: dict[str, Any], path: Path, *, check_polars: bool = True) -> Profile:
    from ledger.schema import KINDS

    def check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise _bad(path, f"unknown key {unknown[0]!r} in {where}")

    def text(table: dict[str, Any], key: str, where: str, default: str | None = None) -> Any:
        value = table.get(key, default)
        if value is not None and not isinstance(value, str):
            raise _bad(path, f"{where}{key} must be a string")
        return value

    def strings(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad(path, f"{where}{key} must be a string or a list of strings")
        return tuple(value)

    check_keys(data, TOP_KEYS, "the profile")
    for section, allowed in SECTION_KEYS.items():
        if not isinstance(data.get(section, {}), dict):
            raise _bad(path, f"[{section}] must be a table")
        check_keys(data.get(section, {}), allowed, f"[{section}]")
    for key in ("name", "title", "currency"):
        if not text(data, key, ""):
            raise _bad(path, f"{key} is required")
    name = data["name"]
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise _bad(path, f"name {name!r} must be lower-case letters, digits, '-' or '_'")
    currency = data["currency"].upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise _bad(path, f"currency {data['currency']!r} is not an ISO 4217 code such as PKR")

    detect, read = data.get("detect", {}), data.get("read", {})
    columns, values = data.get("columns", {}), data.get("values", {})
    header = strings(detect, "header", "[detect] ")
    if not header:
        raise _bad(path, "[detect] header must list the header row's cells")
    header_names = {normalize(h) for h in header}
    cols: dict[str, tuple[str, ...]] = {}
    labels = {normalize(h): h for h in header}
    for key in FIELDS:
        names = strings(columns, key, "[columns] ")
        for column in names:
            if re.sub(r"#\d+$", "", normalize(column)) not in header_names:
                raise _bad(path, f"[columns] {key} = {column!r} is not in [detect] header")
            labels.setdefault(normalize(column), column)
        if names:
            cols[key] = tuple(normalize(n) for n in names)
        if len(names) > 1 and key != "description":
            raise _bad(path, f"[columns] {key} must name one column")
    for key in ("date", "description"):
        if key not in cols:
            raise _bad(path, f"[columns] {key} is required")
    has_amount, has_pair = "amount" in cols, "debit" in cols or "credit" in cols
    if has_amount == has_pair or (has_pair and not ("debit" in cols and "credit" in cols)):
        raise _bad(path, "[columns] needs either amount (with an optional marker) "
                   "or both debit and credit")
    if "marker" in cols and not has_amount:
        raise _bad(path, "[columns] marker goes with amount, not with debit/credit")

    formats = strings(values, "date_format", "[values] ")
    if not formats:
        raise _bad(path, "[values] date_format is required, e.g. \"%d/%m/%Y\"")
    _check_date_formats(formats, path)
    mark = text(values, "decimal_mark", "[values] ", ".")
    if mark not in (".", ","):
        raise _bad(path, f"[values] decimal_mark must be \".\" or \",\", not {mark!r}")
    scan = read.get("header_scan", SCAN_LINES)
    if not isinstance(scan, int) or not 1 <= scan <= SCAN_LINES:
        raise _bad(path, f"[read] header_scan must be a number from 1 to {SCAN_LINES}")
    flags = {}
    for key, default in (("footer", True), ("line_by_line", False),
                         ("rejoin_split_numbers", False)):
        flags[key] = read.get(key, default)
        if not isinstance(flags[key], bool):
            raise _bad(path, f"[read] {key} must be true or false")
    common = data.get("common_kinds", True)
    if not isinstance(common, bool):
        raise _bad(path, "common_kinds must be true or false")

    patterns: list[tuple[str, str | None]] = [
        ("[detect] preamble", text(detect, "preamble", "[detect] ")),
        ("[values] ref_pattern", text(values, "ref_pattern", "[values] ")),
        ("[values] counterparty_pattern", text(values, "counterparty_pattern", "[values] ")),
    ]
    patterns += [("[read] skip_rows_matching", p)
                 for p in strings(read, "skip_rows_matching", "[read] ")]
    rules = [_rule(r, path, KINDS, f"[[kinds]] #{i}")
             for i, r in enumerate(_tables(data, "kinds", path), 1)]
    parts = [_part(p, path, KINDS, f"[[split]] #{i}")
             for i, p in enumerate(_tables(data, "split", path), 1)]
    patterns += [(f"[[kinds]] #{i} match", r.match) for i, r in enumerate(rules, 1)]
    patterns += [(f"[[split]] #{i} amount", p.amount) for i, p in enumerate(parts, 1)]
    for where, pattern in patterns:
        _check_regex(pattern, where, path, polars=check_polars)
    for key in ("ref_pattern", "counterparty_pattern"):
        pattern = values.get(key)
        if pattern and re.compile(pattern).groups < 1:
            raise _bad(path, f"[values] {key} needs a (group) around the part to keep")
    for i, part in enumerate(parts, 1):
        if re.compile(part.amount).groups < 1:
            raise _bad(path, f"[[split]] #{i} amount needs a (group) around the number")

    return Profile(
        name=name, title=data["title"], country=text(data, "country", "", "") or "",
        currency=currency, account=text(data, "account", "", f"bank:{name}") or f"bank:{name}",
        path=path, header=tuple(normalize(h) for h in header),
        without=tuple(normalize(h) for h in strings(detect, "without", "[detect] ")),
        preamble=detect.get("preamble"), filename=detect.get("filename"), header_scan=scan,
        skip_rows_matching=strings(read, "skip_rows_matching", "[read] "),
        footer=flags["footer"], line_by_line=flags["line_by_line"],
        rejoin_split_numbers=flags["rejoin_split_numbers"], columns=cols, labels=labels,
        date_formats=formats, decimal_mark=mark,
        debit_markers=tuple(m.casefold() for m in strings(values, "debit_markers", "[values] "))
        or Profile.debit_markers,
        credit_markers=tuple(m.casefold()
                             for m in strings(values, "credit_markers", "[values] "))
        or Profile.credit_markers,
        ref_pattern=values.get("ref_pattern"),
        counterparty_pattern=values.get("counterparty_pattern"),
        kinds=tuple(rules) + (COMMON_KINDS if common else ()), splits=tuple(parts),
    )


def _tables(data: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    found = data.get(key, [])
    if not isinstance(found, list) or not all(isinstance(t, dict) for t in found):
        raise _bad(path, f"{key} must be written as [[{key}]] tables")
    return found


def _rule(table: dict[str, Any], path: Path, kinds: Iterable[str], where: str) -> Rule:
    unknown = sorted(set(table) - {"match", "sign", "kind", "category"})
    if unknown:
        raise _bad(path, f"unknown key {unknown[0]!r} in {where}")
    kind, sign = table.get("kind"), table.get("sign")
    if kind not in kinds:
        raise _bad(path, f"{where} kind {kind!r} is not one of: {', '.join(kinds)}")
    if sign not in (None, "credit", "debit"):
        raise _bad(path, f"{where} sign must be \"credit\" or \"debit\", not {sign!r}")
    return Rule(match=table.get("match"), sign=sign, kind=kind, category=table.get("category"))


def _part(table: dict[str, Any], path: Path, kinds: Iterable[str], where: str) -> Part:
    unknown = sorted(set(table) - {"amount", "kind", "category"})
    if unknown:
        raise _bad(path, f"unknown key {unknown[0]!r} in {where}")
    if not isinstance(table.get("amount"), str):
        raise _bad(path, f"{where} amount must be a regex whose group 1 is the amount")
    if table.get("kind") not in kinds:
        raise _bad(path, f"{where} kind {table.get('kind')!r} is not one of: {', '.join(kinds)}")
    return Part(amount=table["amount"], kind=table["kind"], category=table.get("category"))


def _check_regex(pattern: str | None, where: str, path: Path, *, polars: bool = True) -> None:
    """The pattern must work both in Python (detection) and in polars (parsing)."""
    if pattern is None:
        return
    import polars as pl

    try:
        re.compile(pattern)
        if polars:
            pl.Series([""]).str.contains(pattern)
    except (re.error, pl.exceptions.PolarsError) as exc:
        raise _bad(path, f"{where} {pattern!r} is not a usable regex: "
                   f"{str(exc).splitlines()[0]}") from None


def _check_date_formats(formats: Sequence[str], path: Path) -> None:
    for fmt in formats:
        if "%" not in fmt:
            raise _bad(path, f"[values] date_format {fmt!r} has no %-codes such as %d/%m/%Y")
        swapped = fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
        if swapped != fmt and swapped in formats:
            raise _bad(path, f"[values] date_format lists both {fmt!r} and {swapped!r}: "
                       "a date such as 03/04/2024 would be read either way; keep the bank's one")


def bundled_profiles() -> list[Profile]:
    return [load_profile(p, bundled=True) for p in sorted(PROFILES_DIR.glob("*.toml"))]


def as_format(profile: Profile) -> Format:
    return Format(name=profile.source, title=profile.title, fingerprint=profile.fingerprint(),
                  detect=partial(detect, profile), parse=partial(parse, profile))


def formats_from_dir(path: Path) -> list[Format]:
    """The formats of a user's profiles directory (`*.toml`); none if it does not exist."""
    path = Path(path)
    if not path.exists():
        return []
    if not path.is_dir():
        raise UsageError("profiles path is not a directory", path=path,
                         hint="put your bank profiles (*.toml) in a folder named profiles")
    found: dict[str, Path] = {}
    out = []
    for file in sorted(path.glob("*.toml")):
        profile = load_profile(file)
        if profile.name in found:
            raise UsageError(f"profile name {profile.name!r} is also used by "
                             f"{found[profile.name]}", path=file,
                             hint="give each profile its own name")
        found[profile.name] = file
        out.append(as_format(profile))
    return out


def with_user_profiles(known: list[Format], dirs: Sequence[Path]) -> list[Format]:
    """`known` plus the profiles in `dirs`; a user profile replaces a format of the same name."""
    out = list(known)
    for directory in dirs:
        for fmt in formats_from_dir(directory):
            same = [i for i, f in enumerate(out) if f.name == fmt.name]
            if same:
                out[same[0]] = fmt
            else:
                out.append(fmt)
    return out


# --- detection -------------------------------------------------------------------------------


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
            grid = _read_sheet(raw.data, n_rows=SCAN_LINES)
            rows = [[c or "" for c in row] for row in grid.rows()]
        except BaseException as exc:  # any reader failure means "not a sheet we know"
            _reader_failed(exc)
            rows = []
        if len(_SHEET_HEADS) > 16:
            _SHEET_HEADS.clear()
        _SHEET_HEADS[raw.sha256] = rows
    return _SHEET_HEADS[raw.sha256]


def _reader_failed(exc: BaseException) -> str:
    """The first line of what fastexcel raised: its own errors, or pyo3's PanicException (a
    BaseException, so `except Exception` misses it) where the Rust side panics. A Ctrl-C or
    an exit goes on up."""
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        raise exc
    return (str(exc) or type(exc).__name__).splitlines()[0]
def _read_sheet(data: bytes, n_rows: int | None = None) -> pl.DataFrame:
    """First sheet as all-string cells, one row per sheet row from row 1 (empty rows kept)."""
    import fastexcel

    reader = fastexcel.read_excel(data)
    sheet = reader.load_sheet(0, header_row=None, dtypes="string", skip_rows=0, n_rows=n_rows,
                              whitespace_as_null=True)
    return sheet.to_polars()


def _header_in(rows: Iterable[list[str]], profile: Profile) -> int | None:
    for index, cells in enumerate(rows):
        if index >= profile.header_scan:
            return None
        if profile.header_fits({normalize(c) for c in cells}):
            return index
    return None


def _csv_header(raw: RawFile, profile: Profile) -> int | None:
    index = raw.header_index(profile.header_fits)
    return index if index is not None and index < profile.header_scan else None


def detect(profile: Profile, raw: RawFile) -> bool:
    if profile.filename and not fnmatch.fnmatch(raw.path.name.casefold(),
                                                profile.filename.casefold()):
        return False
    if is_sheet(raw):
        rows = sheet_head(raw)
        index = _header_in(rows, profile)
        above = ["\t".join(r) for r in rows[:index or 0]]
    else:
        if raw.is_binary:
            return False
        index = _csv_header(raw, profile)
        above = raw.head_lines[:index or 0]
    if index is None:
        return False
    return not profile.preamble or _found(profile.preamble, "\n".join(above), profile.bundled)


def _found(pattern: str, text: str, bundled: bool) -> bool:
    """Whether the preamble regex occurs in the lines above the header.

    A user's profile (a donor's folder may carry one) is matched by polars' Rust regex, which
    runs in linear time: Python's `re` backtracks, so `^(a+)+$` takes hours on 32 a's and a
    `!`. Profile regexes must already suit polars (checked at load), so this restricts
    nothing. Bundled profiles keep Python's `re` (no polars call per file in detection)."""
    if bundled:
        return re.search(pattern, text, re.IGNORECASE) is not None
    import polars as pl

    return bool(pl.Series([text]).str.contains(f"(?i){pattern}").item())


# --- reading the table -----------------------------------------------------------------------


@dataclass
class Body:
    """The statement's table: string columns by normalised header, `_line`, footer count."""

    df: pl.DataFrame
    footer: int


def _no_header(profile: Profile, raw: RawFile) -> DataError:
    cells = ", ".join(profile.labels.get(h, h) for h in profile.header)
    return DataError(
        f"no header row with {cells} in the first {profile.header_scan} lines", path=raw.path,
        line=1, hint=f"this is not a {profile.title} export, or the bank changed its layout; "
        f"run `ledger formats` to see what each format expects, or edit {profile.path.name}",
    )


def _dated(values: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """Dates read with the first of `formats` that fits (a year below 1900 does not fit)."""
    import polars as pl

    text = values.str.strip_chars()
    tries = []
    for fmt in formats:
        parsed = text.str.strptime(pl.Date, fmt, strict=False)
        tries.append(pl.when(parsed.dt.year() >= MIN_YEAR).then(parsed))
    return pl.coalesce(tries)


DATE_LIKE = (r"^\s*(\d{1,4}[-/. ]\s*(\d{1,2}|[A-Za-z]{3,9})[-/. ,]\s*\d{2,4}"
             r"|[A-Za-z]{3,9}\.? \d{1,2},? \d{4})")
"""A cell shaped like a date (`31/04/24`, `07-Jun-24`, `Mar 31, 2025`) even if it does not
parse: such a row is a transaction with a bad date, never part of a footer."""


def _footer_start(values: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """True for rows that end the body: their date cell parses or at least looks like a date."""
    return _dated(values, formats).is_not_null() | values.str.contains(DATE_LIKE).fill_null(False)


def _date_formats(profile: Profile, sheet: bool) -> list[str]:
    """A real date cell in a spreadsheet reads as `2024-04-01 00:00:00` whatever its display."""
    formats = list(profile.date_formats)
    return [*formats, "%Y-%m-%d %H:%M:%S"] if sheet else formats


def _read_csv(raw: RawFile, profile: Profile) -> Body:
    index = _csv_header(raw, profile)
    if index is None:
        raise _no_header(profile, raw)
    if profile.line_by_line or profile.rejoin_split_numbers:
        raw = _clean_csv(raw, index, profile)
    raw, footer = _cut_footer(raw, index, profile)
    table = read_table(raw, index)
    return Body(df=table.df, footer=footer)


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
    return _unique([normalize(c) for c in split_line(line, sep)]), sep


def _clean_csv(raw: RawFile, index: int, profile: Profile) -> RawFile:
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
        fast = _unpad_quotes(body, sep)
        if fast is not None:
            return RawFile(path=raw.path, data=(text[:start] + fast).encode("utf-8"),
                           sha256=raw.sha256)
    out = io.StringIO()
    out.write(text[:start])
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    reader = csv.reader(io.StringIO(text[start:], newline=""), delimiter=sep)
    for cells in reader:
        if profile.rejoin_split_numbers and len(cells) > len(names):
            cells = _rejoin(cells, len(names), first_money)
        if cells:
            writer.writerow(cells)
        else:
            out.write("\n")
    return RawFile(path=raw.path, data=out.getvalue().encode("utf-8"), sha256=raw.sha256)


def _unpad_quotes(body: str, sep: str) -> str | None:
    """`_clean_csv` of Meezan's kind of body (`"06/02/2025" ,"Salary" ,`: spaces after each
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
    """`_clean_csv` of a body with no quotes (SBI's): only rows with too many cells need
    Python (`_rejoin`); the others, found vectorised, are kept as they are, which is what the
    csv module would write back for a line without quotes. Ends with a newline, like it."""
    import polars as pl

    lines = pl.Series([body.removesuffix("\n")]).str.split("\n").explode()
    wide = (lines.str.count_matches(sep, literal=True) + 1 > width).arg_true()
    if wide.len():
        out = io.StringIO()
        writer = csv.writer(out, delimiter=sep, lineterminator="\n")
        for line in lines.gather(wide).to_list():
            writer.writerow(_rejoin(line.split(sep), width, first_money))
        lines = lines.scatter(wide, out.getvalue().removesuffix("\n").split("\n"))
    return lines.str.join("\n")[0] + "\n"


_HEAD = re.compile(r"-?\d{1,3}")
_GROUP = re.compile(r"\d{2,3}")
_TAIL = re.compile(r"\d{3}\.\d{1,2}")


def _rejoin(cells: list[str], width: int, start: int) -> list[str]:
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


def _cut_footer(raw: RawFile, index: int, profile: Profile) -> tuple[RawFile, int]:
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
            return RawFile(path=raw.path, data=data[:len(data) - cut], sha256=raw.sha256), count
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
    dated = pl.select(_footer_start(pl.lit(values), profile.date_formats)).to_series()
    hits = [i for i, ok in enumerate(dated.to_list()) if ok]
    if not hits or hits[-1] == len(lines) - 1:
        return []
    footer = lines[hits[-1] + 1:]
    if sum(line.count('"') for line in footer) % 2:
        return []
    return footer


def _read_spreadsheet(raw: RawFile, profile: Profile) -> Body:
    import polars as pl

    from importers.sheet_limits import check_raw

    check_raw(raw)
    try:
        grid = _read_sheet(raw.data)
    except BaseException as exc:  # the reader's own errors vary by file kind
        raise DataError(f"cannot read as a spreadsheet: {_reader_failed(exc)}",
                        path=raw.path, hint="open it in a spreadsheet program and save it "
                        "again as .xlsx, or export the statement as CSV") from None
    head = [[c or "" for c in row] for row in grid.head(profile.header_scan).rows()]
    index = _header_in(head, profile)
    if index is None:
        raise _no_header(profile, raw)
    names = _unique([normalize(c) for c in head[index]])
    df = grid.slice(index + 1).rename(dict(zip(grid.columns, names, strict=True)))
    df = df.with_columns(pl.int_range(index + 2, index + 2 + df.height, dtype=pl.Int64)
                         .alias(LINE))
    cells = [c for c in df.columns if c != LINE]
    df = df.filter(~pl.all_horizontal(pl.col(c).is_null() for c in cells))
    footer = 0
    if profile.footer and df.height:
        dated = df.select(_footer_start(pl.col(profile.col("date")),  # type: ignore[arg-type]
                                        _date_formats(profile, True)))
        hits = dated.to_series().arg_true()
        if hits.len() and hits[-1] < df.height - 1:
            footer = df.height - 1 - hits[-1]
            df = df.head(hits[-1] + 1)
    return Body(df=df, footer=footer)


# --- parsing ---------------------------------------------------------------------------------


def parse(profile: Profile, raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    sheet = is_sheet(raw)
    body = _read_spreadsheet(raw, profile) if sheet else _read_csv(raw, profile)
    path = raw.path
    df = _select(body.df, profile, path)
    rows_read = df.height
    mark = options.decimal_mark or profile.decimal_mark
    formats = _date_formats(profile, sheet)

    pseudo = df.clear()
    if profile.skip_rows_matching:
        pseudo = df.filter(pl.col("_pseudo"))
        df = df.filter(~pl.col("_pseudo"))
    df = df.with_columns(date=_parse_dates(df, formats, profile, path))
    if "value_date" in profile.columns:
        given = df.lazy().filter(nonblank(pl.col("_value_date")).is_not_null()) \
            .select(LINE, "_value_date").collect()  # lazy: only these columns are filtered
        _parse_dates(given, formats, profile, path, column="_value_date", what="value date")
    df = df.with_columns(amount=_amount(df, profile, path, mark),
                         balance=_balance(df, profile, path, mark))
    currency = pl.lit(profile.currency)
    if "currency" in profile.columns:
        currency = pl.coalesce(nonblank(pl.col("_currency")).str.to_uppercase(), currency)
    df = df.with_columns(currency=currency)
    _check_balance(df, pseudo, profile, path, mark, formats, currency)

    description = pl.coalesce(pl.col("_description").str.strip_chars(), pl.lit(""))
    ref = pl.lit(None, pl.String)
    if "ref" in profile.columns:
        given = nonblank(pl.col("_ref"))
        ref = pl.when(given.str.contains(PLACEHOLDER_REF)).then(None).otherwise(given)
    if profile.ref_pattern:
        ref = pl.coalesce(ref, description.str.extract(f"(?i){profile.ref_pattern}", 1))
    party = pl.lit(None, dtype=pl.String)
    if profile.counterparty_pattern:
        party = nonblank(description.str.extract(f"(?i){profile.counterparty_pattern}", 1))
    df = df.with_columns(description=description, ref=ref, counterparty=party)
    df = _classify(df, profile.kinds).with_columns(related_ref=pl.lit(None, pl.String),
                                                   _part=pl.lit(0, pl.Int32))
    rows = _split(df, profile, path, mark)

    rows = rows.with_columns(contract=pl.lit(None, pl.String),
                             hours=pl.lit(None, pl.Float64))
    account = options.account or profile.account
    rows = finalize(rows, raw, source=profile.source, account=account, key=_key(rows))
    skipped = {}
    if pseudo.height:
        skipped["pseudo-rows such as opening/closing balance (skip_rows_matching)"] = \
            pseudo.height
    if body.footer:
        skipped["footer lines after the last transaction"] = body.footer
    warnings = []
    other = rows.filter(pl.col("kind") == "other").height
    if other:
        warnings.append(f"{other} row(s) imported as kind 'other' (no kinds rule in "
                        f"{profile.path.name} says what they are); list them with "
                        "`ledger transactions --unclassified` and name them with rules "
                        "in ledger.toml (`ledger rules suggest` drafts them)")
    return Parsed(rows=rows, format=profile.source, rows_read=rows_read, skipped=skipped,
                  profile=None if profile.bundled else profile.text,
                  warnings=warnings)


def _select(df: pl.DataFrame, profile: Profile, path: Path) -> pl.DataFrame:
    """Mapped columns under internal names (`_date`...) and `_pseudo` for skipped rows."""
    import polars as pl

    cells = [c for c in df.columns if c != LINE]
    for columns in profile.columns.values():
        missing = next((c for c in columns if c not in cells), None)
        if missing:
            raise DataError(f"column {profile.labels.get(missing, missing)!r} is missing",
                            path=path, line=1, hint="columns found: " + ", ".join(cells))
    out = [pl.col(LINE)]
    for name, columns in profile.columns.items():
        if name == "description":
            parts = [nonblank(pl.col(c)) for c in columns]
            out.append(pl.concat_str(parts, separator=" - ", ignore_nulls=True)
                       .alias("_description"))
        else:
            out.append(pl.col(columns[0]).alias(f"_{name}"))
    pseudo = pl.lit(False)
    if profile.skip_rows_matching:
        pattern = "(?i)" + "|".join(f"(?:{p})" for p in profile.skip_rows_matching)
        pseudo = pl.any_horizontal(pl.col(c).str.strip_chars().str.contains(pattern)
                                   .fill_null(False) for c in cells)
    return df.select(*out, pseudo.alias("_pseudo"))


def _parse_dates(df: pl.DataFrame, formats: list[str], profile: Profile, path: Path,
                 column: str = "_date", what: str = "date") -> pl.Series:
    """Dates by the profile's formats; the first that fits none is a DataError at its line.

    Like base.parse_dates (same message), but a `%Y` that reads `24` as year 24 does not fit.
    Eager: later formats are tried only on what the earlier ones left.
    """
    import polars as pl

    values = df[column].str.strip_chars()
    parsed = pl.Series(column, [None] * df.height, dtype=pl.Date)
    for fmt in formats:
        if parsed.null_count() == values.null_count():
            break
        attempt = values.str.strptime(pl.Date, fmt, strict=False)
        parsed = parsed.fill_null(attempt.set((attempt.dt.year() < MIN_YEAR).fill_null(False),
                                              None))
    missing = parsed.is_null()
    if missing.any():
        at = missing.arg_true()[0]
        bad = int(df[LINE][at]), values[at] or "(empty)"
        hint = (f"{profile.path.name} expects date_format {' or '.join(profile.date_formats)}; "
                "if the bank writes dates differently, edit the profile")
        shown = ", ".join(dt.date(2024, 6, 28).strftime(f) for f in formats)
        raise DataError(f"{what} {bad[1]!r} is not a date in the expected form ({shown})",
                        path=path, line=bad[0], hint=hint)
    return parsed


def _label(profile: Profile, name: str) -> str:
    return profile.labels.get(profile.col(name) or "", name)


def _amount(df: pl.DataFrame, profile: Profile, path: Path, mark: str) -> pl.Expr | pl.Series:
    """Signed amount: credit - debit, or the amount signed by its Dr/Cr marker."""
    import polars as pl

    if "amount" in profile.columns:
        amount = parse_money(df, pl.col("_amount"), path=path, what=_label(profile, "amount"),
                             decimal_mark=mark)
        if "marker" not in profile.columns:
            return amount
        debit = _marker(df, "_marker", _label(profile, "marker"), profile, path, required=True)
        return pl.when(debit).then(-amount.abs()).otherwise(amount.abs())
    names = _label(profile, "debit"), _label(profile, "credit")
    both = parse_money_columns(df, {"debit": (pl.col("_debit"), names[0], False),
                                    "credit": (pl.col("_credit"), names[1], False)},
                               path=path, decimal_mark=mark)
    debit, credit = both["debit"], both["credit"]
    neither = first_bad(df, debit.is_null() & credit.is_null(), pl.lit(""))
    if neither:
        raise DataError(f"neither {names[0]!r} nor {names[1]!r} has an amount", path=path,
                        line=neither[0], hint="every transaction needs a debit or a credit; "
                        "if this is a summary row, add it to [read] skip_rows_matching")
    both = first_bad(df, (debit.fill_null(0) != 0) & (credit.fill_null(0) != 0), pl.lit(""))
    if both:
        raise DataError(f"both {names[0]!r} and {names[1]!r} have an amount", path=path,
                        line=both[0], hint="a row is either money out or money in; the "
                        "columns may be shifted: check the file is the original export")
    return credit.abs().fill_null(0) - debit.abs().fill_null(0)


def _marker(df: pl.DataFrame, column: str, label: str, profile: Profile, path: Path,
            required: bool) -> pl.Expr:
    """True where the marker says debit; an unknown marker is a DataError."""
    import polars as pl

    text = pl.col(column).str.strip_chars().str.to_lowercase()
    debit = text.is_in(list(profile.debit_markers))
    credit = text.is_in(list(profile.credit_markers))
    known = debit | credit if required else debit | credit | nonblank(pl.col(column)).is_null()
    bad = first_bad(df, ~known.fill_null(False), pl.coalesce(pl.col(column), pl.lit("")))
    if bad:
        raise DataError(
            f"{label} {bad[1]!r} is neither a debit ({', '.join(profile.debit_markers)}) nor a "
            f"credit ({', '.join(profile.credit_markers)}) marker", path=path, line=bad[0],
            hint=f"add it to debit_markers or credit_markers in {profile.path.name}")
    return debit.fill_null(False)


def _balance(df: pl.DataFrame, profile: Profile, path: Path, mark: str) -> pl.Expr | pl.Series:
    import polars as pl

    if "balance" not in profile.columns:
        return pl.lit(None, dtype=pl.Decimal(38, 4))
    balance = parse_money(df, pl.col("_balance"), path=path, what=_label(profile, "balance"),
                          decimal_mark=mark, required=False)
    if "balance_marker" in profile.columns:
        debit = _marker(df, "_balance_marker", _label(profile, "balance_marker"), profile,
                        path, required=False)
        balance = pl.when(debit).then(-balance.abs()).otherwise(balance)
    return balance


def _check_balance(df: pl.DataFrame, pseudo: pl.DataFrame, profile: Profile, path: Path,
                   mark: str, formats: list[str], currency: pl.Expr) -> None:
    """Running balance over the bank's own rows, pseudo-rows (opening/closing) included."""
    import polars as pl

    if "balance" not in profile.columns:
        return
    cols = [LINE, "date", "amount", "balance", "currency"]
    if pseudo.height:
        pseudo = pseudo.with_columns(
            date=_dated(pl.col("_date"), formats),
            amount=pl.lit(0, dtype=pl.Decimal(38, 4)),
            balance=_balance(pseudo, profile, path, mark),
        ).with_columns(currency=currency)
        df = pl.concat([df.select(cols), pseudo.select(cols)], how="vertical_relaxed").sort(LINE)
    dates = df["date"].drop_nulls()
    newest_first = None
    if dates.len() > 1 and dates[0] != dates[-1]:
        newest_first = dates[0] > dates[-1]
    check_running_balance(df.select(cols), path=path, group=["currency"],
                          newest_first=newest_first)


def _classify(df: pl.DataFrame, rules: Sequence[Rule]) -> pl.DataFrame:
    """`kind` and `category` by the first rule that matches (`other` where none does).

    Rules are tried in order, each only on the rows no earlier rule took (and of its sign):
    one vectorised test per rule on what is left, so the common rules' regexes never see the
    rows a profile's own rules or the sign already settled.
    """
    import polars as pl

    height = df.height
    description = df["description"]
    signs = {"credit": (df["amount"] > 0).fill_null(False),
             "debit": (df["amount"] < 0).fill_null(False)}
    first = pl.repeat(None, height, dtype=pl.UInt16, eager=True).alias("_rule")
    done = pl.repeat(False, height, dtype=pl.Boolean, eager=True)
    for number, rule in enumerate(rules):
        todo = ~done & signs[rule.sign] if rule.sign else ~done
        rows = todo.arg_true()
        if rule.match and rows.len():
            hit = description.gather(rows).str.contains(f"(?i){rule.match}").fill_null(False)
            rows = rows.filter(hit)
        if rows.len():
            first.scatter(rows, number)
            done.scatter(rows, True)
    kinds = {n: r.kind for n, r in enumerate(rules)}
    categories = {n: r.category for n, r in enumerate(rules)}
    return df.with_columns(first).with_columns(
        kind=pl.col("_rule").replace_strict(kinds, default="other", return_dtype=pl.String),
        category=pl.col("_rule").replace_strict(categories, default=None,
                                                return_dtype=pl.String),
    ).drop("_rule")


def _split(df: pl.DataFrame, profile: Profile, path: Path, mark: str) -> pl.DataFrame:
    """Rows whose description names part amounts: one row per part plus what is left."""
    import polars as pl

    from ledger.money import amount_expr

    if not profile.splits:
        return df
    found = []
    for i, part in enumerate(profile.splits, 1):
        text = pl.col("description").str.extract(f"(?i){part.amount}", 1)
        value = amount_expr(text, mark)
        bad = first_bad(df, text.is_not_null() & value.is_null(), text)
        if bad:
            raise DataError(f"amount {bad[1]!r} in the description is not a number", path=path,
                            line=bad[0], hint=f"check [[split]] #{i} in {profile.path.name}")
        found.append(value.abs().alias(f"_p{i}"))
    df = df.with_columns(found)
    names = [f"_p{i}" for i in range(1, len(profile.splits) + 1)]
    taken = pl.sum_horizontal([pl.col(n).fill_null(0) for n in names]).cast(pl.Decimal(38, 4))
    has_parts = pl.any_horizontal([pl.col(n).is_not_null() for n in names])
    too_much = first_bad(df, has_parts & (taken > pl.col("amount").abs()), pl.col("description"))
    if too_much:
        raise DataError("the amounts named in the description add up to more than the row's "
                        "amount", path=path, line=too_much[0],
                        hint=f"check [[split]] in {profile.path.name}")
    negative = pl.col("amount") < 0
    rest = df.with_columns(
        amount=pl.when(has_parts).then(
            pl.when(negative).then(pl.col("amount") + taken).otherwise(pl.col("amount") - taken))
        .otherwise(pl.col("amount")))
    rest = rest.filter(~has_parts | (pl.col("amount") != 0)).with_columns(
        related_ref=pl.when(has_parts).then(pl.col("ref")).otherwise(pl.col("related_ref")),
        ref=pl.when(has_parts).then(None).otherwise(pl.col("ref")))
    frames = [rest]
    for i, part in enumerate(profile.splits, 1):
        value = pl.col(f"_p{i}")
        frames.append(df.filter(value.is_not_null()).with_columns(
            amount=pl.when(negative).then(-value).otherwise(value),
            kind=pl.lit(part.kind), category=pl.lit(part.category, dtype=pl.String),
            related_ref=pl.col("ref"), ref=pl.lit(None, dtype=pl.String),
            _part=pl.lit(i, dtype=pl.Int32)))
    return pl.concat(frames).sort(LINE, "_part").drop(names)


def _key(rows: pl.DataFrame) -> pl.Expr:
    """Row key: content plus balance and split part, and the n-th occurrence of all that.

    The occurrence is counted only among rows whose content (by hash) repeats, 0 elsewhere:
    the same keys as counting everywhere, without grouping a million unique strings. The date
    enters as its day number (cheaper than formatting it).
    """
    import polars as pl

    content = [pl.col("date").cast(pl.Int32)] + [
        pl.col(c).cast(pl.String).fill_null("")
        for c in ("amount", "currency", "description", "ref", "balance", "_part")]
    keys = rows.select(pl.concat_str(content, separator="|").alias("k"))["k"]
    occurrence = pl.repeat("0", rows.height, dtype=pl.String, eager=True)
    repeated = keys.hash().is_duplicated()
    if repeated.any():
        at = repeated.arg_true()
        counted = pl.DataFrame({"k": keys.gather(at)}).select(
            pl.int_range(pl.len()).over("k").cast(pl.String))
        occurrence = occurrence.scatter(at, counted.to_series())
    return pl.lit(keys + "|" + occurrence)


FORMATS = [as_format(p) for p in bundled_profiles()]
"""Bundled bank profiles (importers/profiles/*.toml), in file-name order."""
