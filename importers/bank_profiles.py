"""Bank profiles: reading one TOML layout (`importers/profiles/*.toml`, or a user's
`<ledger dir>/profiles/`) into a checked `Profile`. The format is described at the top of
importers/bank.py; any mistake in a profile is a UsageError naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importers.raw_files import SCAN_LINES, normalize
from ledger.core.errors import DataError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

PROFILES_DIR = Path(__file__).parent / "profiles"

PROFILE_MAX_BYTES = 1024 * 1024
"""A profile is a page of TOML; a larger file in profiles/ is not one."""


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
    from importers.raw_files import read_regular

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
    return replace(profile_from_data(data, path, check_polars=not bundled), text=text,
                   bundled=bundled)


def _bad(path: Path, message: str) -> UsageError:
    return UsageError(f"profile: {message}", path=path,
                      hint="see the profile format at the top of importers/bank.py "
                      "or a bundled profile in importers/profiles/")


def profile_from_data(data: dict[str, Any], path: Path, *, check_polars: bool = True
                      ) -> Profile:
    """A profile from parsed TOML (`path` names it in errors): every key checked."""
    from ledger.core.schema import KINDS

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
