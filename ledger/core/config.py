"""ledger.toml: the user's settings, read and checked in one pass into a typed, frozen `Config`.

Every command reads its settings through `load` (`store.Ledger.settings()`): the file is parsed
once per text (ledger/core/tomlfile.py) and checked once per text, so a report that asks for the
settings many times pays for one parse and one check. The check walks the whole file: a key
no part of the ledger reads is refused naming the file, the key and its table (most often a
typo, which would otherwise be silently ignored), with the keys that table knows; text settings
must be text, the locale one CLDR knows, and `[[rules]]` valid (ledger.user_rules). Tables
with validators of their own ([reconcile], [[workers]], [[splits]], [fees]) are passed on as
written, their shape checked here, their keys by their owners (ledger.reconcile.settings,
ledger.payouts.load_rules, rules.fees.load_schedule), which name their own unknown keys.

Mistakes in ledger.toml are usage errors (exit 2), like every other setting the user gives.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.core.errors import UsageError

if TYPE_CHECKING:
    from ledger.core.user_rules import UserRule
    from ledger.store.directory import Ledger

TEXT_SETTINGS = {"home_currency": "PKR", "country": "PK", "locale": "en_PK"}
"""Settings that must be text, with an example for the message."""
TABLES = {"reconcile": "e.g. [reconcile]\nwindow_days = {upwork = 5, payoneer = 3}",
          "payouts": 'e.g. [payouts] units = "units.csv"',
          "fees": 'e.g. [[fees.upwork.service_fee]] id = "..." rate = "0.10"'}
"""Settings written as one table, with the hint their message gives."""
ARRAYS = {"workers": 'write each as [[workers]] name = "Ali" currency = "PKR"',
          "splits": 'write each as [[splits]] worker = "Ali" percent_of_gross = "10"',
          "hours": 'write each as [[hours]] client = "Beta LLC" month = "2024-06" hours = 12',
          "benchmarks": 'write each as [[benchmarks]] name = "living_wage" amount = "60000" '
                        'currency = "PKR" period = "month"'}
"""Settings written as an array of tables (`[[name]]`, one per entry), with the hint their
message gives (`[[rules]]` are checked whole by ledger.user_rules)."""
TOP_KEYS = frozenset((*TEXT_SETTINGS, *TABLES, *ARRAYS, "rules"))
ENTRY_KEYS = {
    "payouts": frozenset({"units", "show_contract"}),
    "hours": frozenset({"client", "contract", "month", "hours", "kind"}),
    "benchmarks": frozenset({"name", "amount", "currency", "period", "source", "url",
                             "country", "year"}),
}
"""Keys of the tables no other validator checks (the others name their own unknown keys)."""


@dataclass(frozen=True)
class Config:
    """ledger.toml as the ledger reads it: checked, typed, never changed after loading."""

    path: Path | None = None
    """The file (None: a ledger without ledger.toml, every setting at its default)."""
    text: str = ""
    """The file's text, for messages that name a line."""
    home_currency: str | None = None
    country: str | None = None
    locale: str | None = None
    """As babel spells it (`en_IN`); how every table, text and HTML output writes numbers."""
    rules: tuple[UserRule, ...] = ()
    """`[[rules]]`, validated (ledger.user_rules)."""
    reconcile: Mapping[str, Any] = field(default_factory=dict)
    payouts: Mapping[str, Any] = field(default_factory=dict)
    fees: Mapping[str, Any] = field(default_factory=dict)
    workers: tuple[Mapping[str, Any], ...] = ()
    splits: tuple[Mapping[str, Any], ...] = ()
    hours: tuple[Mapping[str, Any], ...] = ()
    benchmarks: tuple[Mapping[str, Any], ...] = ()
    tree: Mapping[str, Any] = field(default_factory=dict)
    """The parsed file as written (the validators of [reconcile], [fees] and the payouts
    take it whole)."""

    @property
    def where(self) -> str:
        """The file as messages name it."""
        return str(self.path) if self.path is not None else "ledger.toml"

    def as_dict(self) -> dict[str, Any]:
        """The parsed file as a fresh dict (callers may change theirs)."""
        return copy.deepcopy(dict(self.tree))


def load(path: Path) -> Config:
    """`path` (a ledger.toml: the user's, or a donated folder's in `ledger batch`) read and
    checked; an empty Config if there is none."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return Config()
    except UnicodeDecodeError:
        raise UsageError("not UTF-8 text", path=path,
                         hint="save ledger.toml as UTF-8 (most editors: Save As, encoding "
                         "UTF-8)") from None
    return _load(path, text)


def of(ledger: Ledger) -> Config:
    """The ledger's settings (`ledger.settings()`)."""
    return load(ledger.config_path)


@lru_cache(maxsize=8)
def _load(path: Path, text: str) -> Config:
    """The one pass: parse, then `checked`."""
    from ledger.core import tomlfile

    try:
        tree = tomlfile.parse(text)
    except tomlfile.TOMLDecodeError as exc:
        raise UsageError(f"invalid TOML: {exc}", path=path,
                         hint="fix the syntax; see README for the settings") from None
    return checked(tree, path, text)


def checked(tree: dict[str, Any], path: Path = Path("ledger.toml"), text: str = "") -> Config:
    """A parsed ledger.toml (`tree`, kept as the Config's) checked: every key and every
    value's type, then the user rules; `text` (the file's) lets messages name a line."""
    _known(tree, TOP_KEYS, "at the top level", path, text)
    for name, example in TEXT_SETTINGS.items():  # read as text everywhere (`.upper()`)
        value = tree.get(name)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{name} = {value!r} is not text", path=path,
                             hint=f"write it in quotes, e.g. {name} = \"{example}\"")
    for name, hint in TABLES.items():
        if name in tree and not isinstance(tree[name], dict):
            raise UsageError(f"[{name}] must be a table", path=path, hint=hint)
    for name, hint in ARRAYS.items():
        value = tree.get(name, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            raise UsageError(f"{name} must be an array of tables", path=path, hint=hint,
                             line=_line(text, name))
    _known(tree.get("payouts", {}), ENTRY_KEYS["payouts"], "in [payouts]", path, text,
           "[payouts]")
    for name in ("hours", "benchmarks"):
        for number, entry in enumerate(tree.get(name, []), 1):
            _known(entry, ENTRY_KEYS[name], f"in [[{name}]] entry {number}", path, text,
                   f"[[{name}]]", number)
    locale = tree.get("locale")
    from ledger.core.user_rules import load as load_rules

    return Config(
        path=path, text=text, home_currency=tree.get("home_currency"),
        country=tree.get("country"),
        locale=None if locale is None else checked_locale(locale, path=path),
        rules=tuple(load_rules(tree, str(path), text)) if "rules" in tree else (),
        reconcile=tree.get("reconcile", {}), payouts=tree.get("payouts", {}),
        fees=tree.get("fees", {}), workers=tuple(tree.get("workers", [])),
        splits=tuple(tree.get("splits", [])), hours=tuple(tree.get("hours", [])),
        benchmarks=tuple(tree.get("benchmarks", [])), tree=tree)


def _known(table: Mapping[str, Any], keys: frozenset[str], where: str, path: Path,
           text: str, header: str | None = None, nth: int = 1) -> None:
    """Refuse the first key of `table` not in `keys`, suggesting the nearest known one."""
    for key in table:
        if key not in keys:
            from difflib import get_close_matches  # only for the error (~0.6 ms of imports)

            near = get_close_matches(str(key), sorted(keys), n=1)
            guess = f"did you mean {near[0]!r}? " if near else ""
            raise UsageError(f"unknown key {key!r} {where}", path=path,
                             line=_line(text, key, header, nth),
                             hint=f"{guess}known keys: {', '.join(sorted(keys))}")


def _line(text: str, key: str, header: str | None = None, nth: int = 1) -> int | None:
    """The line that writes `key` (`key = ...`, or a `[key]`/`[[key]]` header) at the top of
    the file, or inside the `nth` table headed `header`; None where TOML's other spellings
    (dotted keys, inline tables) hide it."""
    import re

    lines = text.splitlines()
    start, seen = 0, 0
    if header is not None:
        for number, line in enumerate(lines):
            seen += line.strip() == header
            if seen == nth:
                start = number + 1
                break
        else:
            return None
    name = re.escape(key)
    assigned = re.compile(rf"\s*(?:{name}|\"{name}\")\s*=")
    headed = re.compile(rf"\s*\[\[?\s*{name}\s*[\].]")
    past_top = False  # past the top level, only a [key] header can be a top-level key
    for number in range(start, len(lines)):
        line = lines[number]
        if (assigned.match(line) and not past_top) or (header is None and headed.match(line)):
            return number + 1
        if line.lstrip().startswith("["):
            if header is not None:
                return None
            past_top = True
    return None


def table_line(text: str, name: str, nth: int) -> int | None:
    """The line of the `nth` `[[name]]` header (a comment after it allowed), so a message
    about one entry of an array of tables can name it; None if it is written another way."""
    import re

    header = re.compile(rf"\s*\[\[\s*{re.escape(name)}\s*\]\]\s*(?:#.*)?$")
    found = [number + 1 for number, line in enumerate(text.splitlines()) if header.match(line)]
    return found[nth - 1] if 0 < nth <= len(found) else None


def checked_locale(value: str, *, path: Path | None = None, flag: str = "--locale") -> str:
    """A reading locale (`en_IN`, `de_DE`) as babel spells it. An unknown one is a usage
    error (exit 2) naming where it was set: `locale` in ledger.toml (`path`), else `flag`."""
    from ledger.core.locale_fast import entry_for
    from ledger.core.money import check_locale, locale_hint

    entry = entry_for(value.strip().replace("-", "_"))
    if entry is not None:  # a locale whose cached entry babel checked: no babel import
        return entry["name"]
    try:
        return check_locale(value)
    except ValueError:
        setting = f'locale = "{value}"' if path is not None else f"{flag} {value}"
        raise UsageError(f"{setting}: not a locale CLDR knows", path=path,
                         hint=locale_hint()) from None


def reading_locale(ledger: Ledger) -> str | None:
    """`locale` of ledger.toml as babel spells it, or None: how every table, text and HTML
    output writes numbers. An unknown one is refused naming ledger.toml and the key."""
    return ledger.settings().locale


def write_initial(ledger: Ledger, currency: str, country: str | None,
                  locale: str | None = None) -> Path:
    """Create ledger.toml; refuse to overwrite one the user may have edited."""
    from ledger.core.files import atomic_write_bytes
    from ledger.core.money import known_currencies

    currency = currency.upper()
    if currency not in known_currencies():
        raise UsageError(f"unknown currency {currency!r}", hint="use an ISO 4217 code, e.g. PKR")
    if country is not None and not (len(country) == 2 and country.isalpha()):
        raise UsageError(f"country {country!r} is not a two-letter ISO code", hint="e.g. PK")
    if locale is not None:
        locale = checked_locale(locale)
    if ledger.config_path.exists():
        raise UsageError("ledger.toml already exists", path=ledger.config_path,
                         hint="edit it by hand")
    lines = [f'home_currency = "{currency}"']
    if country:
        lines.append(f'country = "{country.upper()}"')
    if locale:
        lines.append(f'locale = "{locale}"')
    ledger.root.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(ledger.config_path, ("\n".join(lines) + "\n").encode("utf-8"))
    return ledger.config_path


def as_date(value: Any) -> dt.date | None:
    """A TOML date (native, or a YYYY-MM-DD string) as a date; ValueError if it is not one."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
