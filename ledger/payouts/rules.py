"""Split rules of sub-worker payouts (docs/payouts.md; ledger.payouts has the whole story):
[[workers]] and [[splits]] of ledger.toml read and checked in one pass, each mistake a UsageError
naming ledger.toml and the rule; and the exact-decimal helpers every payouts module computes with
(WORK places, rounded only when presenting)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.core.errors import UsageError
from ledger.payouts.record import PAYOUTS_FILE
from ledger.payouts.record import workers_hint as _workers_hint

if TYPE_CHECKING:
    import polars as pl

    from ledger.store.directory import Ledger

SCHEMA = "ledger.payouts/1"
WORK = 12
"""Decimal places shares, per-unit amounts and conversions are computed with (then presented
rounded to the currency's minor unit)."""
UNITS_FILE = "units.csv"
SHARES = ("percent_of_gross", "percent_of_net", "per_unit", "per_job", "equal_share")
PAYABLE_KINDS = ("transfer", "other", "expense")
"""Kinds of outgoing rows that are payouts when they name a worker."""
CLAIMABLE = ("earning", "refund")
FEE_KINDS = ("platform_fee", "payment_fee", "tax")
"""Costs tied to one earning (related_ref) that make its net for `percent_of_net`."""
PLATFORM_COSTS = ("platform_fee",)
PAYMENT_COSTS = ("payment_fee", "fx", "bank_fee")
TAX_COSTS = ("tax",)
UNTIED = "(costs not tied to a contract)"
NO_CONTRACT = "(no contract)"
WORKER_KEYS = {"name", "currency", "aliases", "show_contract"}
SPLIT_KEYS = {"id", "worker", "workers", "platform", "client", "contract", "category", "from",
              "until", "order", "final", "fx", "currency", "unit", "units", "basis",
              "include_self", *SHARES}


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Worker:
    name: str
    currency: str
    aliases: tuple[str, ...] = ()
    show_contract: bool = False
    line: int | None = None
    """Of its `[[workers]]` header in ledger.toml, for messages about the worker."""


@dataclass(frozen=True)
class Split:
    """One [[splits]] table: who gets what share of which earnings."""

    index: int
    id: str | None
    workers: tuple[str, ...]
    share: str
    value: Decimal
    unit: str | None = None
    currency: str | None = None
    platform: str | None = None
    client: str | None = None
    contract: str | None = None
    category: str | None = None
    start: dt.date | None = None
    until: dt.date | None = None
    order: int | None = None
    final: bool = False
    fx: str = "earning"
    basis: str = "net"
    include_self: bool = True
    units: str = "rows"
    line: int | None = None
    """Of its `[[splits]]` header in ledger.toml, for messages about the rule."""

    @property
    def label(self) -> str:
        return f'"{self.id}"' if self.id else f"#{self.index}"

    @property
    def percent(self) -> Decimal:
        """The part of one earning this rule takes, in percent (0 for fixed amounts)."""
        if self.share in ("percent_of_gross", "percent_of_net"):
            return self.value
        if self.share == "equal_share":
            return Decimal(100) * len(self.workers) / self.parts
        return Decimal(0)

    @property
    def parts(self) -> int:
        return len(self.workers) + (1 if self.include_self else 0)

    def describe(self) -> str:
        if self.share == "percent_of_gross":
            return f"{num(self.value)}% of gross"
        if self.share == "percent_of_net":
            return f"{num(self.value)}% of net"
        if self.share == "per_job":
            return f"{num(self.value)} {self.currency or 'worker currency'} per job"
        if self.share == "per_unit":
            return f"{num(self.value)} {self.currency or 'worker currency'} per {self.unit}"
        return f"1/{self.parts} of {self.basis} each"


@dataclass
class Rules:
    workers: dict[str, Worker]
    splits: list[Split]
    where: Path
    units_path: Path
    payouts_path: Path

    @property
    def configured(self) -> bool:
        return bool(self.workers)

    def worker(self, name: str) -> Worker:
        for known in self.workers.values():
            if known.name.casefold() == name.strip().casefold():
                return known
        raise UsageError(f"unknown worker {name!r}", path=self.where,
                         hint=_workers_hint(self, name))


def num(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def load_rules(ledger: Ledger) -> Rules:
    """[[workers]] and [[splits]] of ledger.toml, checked: a wrong rule is a UsageError
    naming ledger.toml and the rule. (Their shapes, [payouts] a table and the others arrays
    of tables, were checked when the settings were read: ledger.core.config.)"""
    from ledger.core.config import table_line
    from ledger.core.money import known_currencies

    config = ledger.settings()
    where = ledger.config_path
    options = config.payouts
    home = str(config.home_currency or "USD").upper()
    default_show = bool(options.get("show_contract", False))
    workers: dict[str, Worker] = {}
    for number, table in enumerate(config.workers, 1):
        label = f"worker #{number}"
        line = table_line(config.text, "workers", number)  # (its [[workers]] header)
        if not isinstance(table, dict) or not isinstance(table.get("name"), str) \
                or not table["name"].strip():
            raise UsageError(f"{label} needs a name", path=where, line=line,
                             hint='[[workers]] name = "Ali" currency = "PKR" aliases = [...]')
        name = table["name"].strip()
        label = f"worker {name!r}"
        unknown = sorted(set(table) - WORKER_KEYS)
        if unknown:
            raise UsageError(f"{label}: unknown key(s) {', '.join(unknown)}", path=where, line=line,
                             hint="worker keys: " + ", ".join(sorted(WORKER_KEYS)))
        if name.casefold() in {w.casefold() for w in workers}:
            raise UsageError(f"{label} is defined twice", path=where, line=line,
                             hint="give each worker one [[workers]] entry")
        currency = str(table.get("currency") or home).upper()
        if currency not in known_currencies():
            raise UsageError(f"{label}: unknown currency {currency!r}", path=where, line=line,
                             hint="use an ISO 4217 code, e.g. PKR")
        aliases = table.get("aliases", [])
        if isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise UsageError(f"{label}: aliases must be a list of names", path=where, line=line,
                             hint='e.g. aliases = ["Ali Khan", "0300-1234567"]')
        workers[name] = Worker(name, currency, tuple(a.strip() for a in aliases if a.strip()),
                               bool(table.get("show_contract", default_show)), line)
    splits = [_split(number, table, workers, where, table_line(config.text, "splits", number))
              for number, table in enumerate(config.splits, 1)]
    payouts_path, units_path = files(ledger)
    return Rules(workers, splits, where, units_path, payouts_path)


def files(ledger: Ledger) -> tuple[Path, Path]:
    """The files the payouts read besides the ledger's rows and ledger.toml: payouts.csv and
    the units file (`[payouts] units`, else units.csv); `Rules.payouts_path`, `units_path`,
    and ledger.counting.kept's key without checking the rules."""
    units = ledger.settings().payouts.get("units", UNITS_FILE)
    return ledger.root / PAYOUTS_FILE, ledger.root / str(units)


def _split(number: int, table: Any, workers: dict[str, Worker], where: Path,
           line: int | None = None) -> Split:
    from ledger.core.money import known_currencies

    if not isinstance(table, dict):
        raise UsageError(f"split #{number} is not a table", path=where, line=line,
                         hint='write it as [[splits]] worker = "Ali" percent_of_gross = "10"')
    rule_id = table.get("id")
    label = f'split "{rule_id}"' if rule_id else f"split #{number}"

    def fail(message: str, hint: str) -> UsageError:
        return UsageError(f"{label}: {message}", path=where, line=line, hint=hint)

    unknown = sorted(set(table) - SPLIT_KEYS)
    if unknown:
        raise fail(f"unknown key(s) {', '.join(unknown)}", "split keys: "
                   + ", ".join(sorted(SPLIT_KEYS)))
    shares = [s for s in SHARES if s in table]
    if len(shares) != 1:
        raise fail("needs exactly one share" + (f", not {' and '.join(shares)}" if shares
                                                else ""),
                   "one of percent_of_gross, percent_of_net, per_unit (with unit), per_job, "
                   "equal_share = true (with workers)")
    share = shares[0]
    names = table.get("workers", [])
    if "worker" in table:
        names = [table["worker"], *names]
    if isinstance(names, str):
        names = [names]
    if not names or not all(isinstance(n, str) for n in names):
        raise fail("names no worker", 'add worker = "NAME" (equal_share: workers = [...])')
    resolved = []
    for name in names:
        match = [w for w in workers if w.casefold() == name.strip().casefold()]
        if not match:
            known = ", ".join(workers) or "none yet"
            raise fail(f"unknown worker {name!r}", f"workers in ledger.toml: {known}; add "
                       f'one with [[workers]] name = "{name}"')
        resolved.append(match[0])
    if len(set(resolved)) != len(resolved):
        raise fail("names a worker twice", "list each worker once")
    if share != "equal_share" and len(resolved) != 1:
        raise fail(f"{share} pays one worker, not {len(resolved)}",
                   "write one rule per worker, or use equal_share = true with workers = [...]")
    if share == "equal_share":
        if table["equal_share"] is not True:
            raise fail("equal_share must be true", "equal_share = true, workers = [...]")
        value = Decimal(1)
    else:
        value = _decimal(table[share], lambda m: fail(f"{share} {m}",
                                                      f'write it as a string, e.g. {share} = "10"'))
        if value < 0:
            raise fail(f"{share} is negative", "shares are positive numbers")
        if share.startswith("percent") and value > 100:
            raise fail(f"takes {num(value)}%, more than 100% of an earning",
                       "a share is at most 100 (percent)")
    unit = table.get("unit")
    if share == "per_unit":
        if not isinstance(unit, str) or not unit.strip():
            raise fail("per_unit needs a unit", 'e.g. unit = "hour", "audio_hour", "item", '
                       '"word"')
        unit = unit.strip().lower()
    elif unit is not None:
        raise fail("unit only goes with per_unit", "remove unit, or use per_unit")
    units = table.get("units", "rows" if unit == "hour" else "file")
    if units not in ("rows", "file") or (units == "rows" and share == "per_unit"
                                          and unit != "hour"):
        raise fail(f"units = {units!r} is not possible here",
                   'units = "rows" (hours billed on the rows, unit "hour") or "file" '
                   "(units.csv)")
    currency = table.get("currency")
    if currency is not None:
        if share not in ("per_unit", "per_job"):
            raise fail("currency only goes with per_unit or per_job",
                       "percentages are of the earning, in its currency")
        currency = str(currency).upper()
        if currency not in known_currencies():
            raise fail(f"unknown currency {currency!r}", "use an ISO 4217 code, e.g. USD")
    fx = table.get("fx", "earning")
    if fx not in ("earning", "payout"):
        raise fail(f"fx = {fx!r}", 'fx = "earning" (rate of the earning date, default) or '
                   '"payout" (rate of the payment date)')
    basis = table.get("basis", "net")
    if basis not in ("gross", "net") or ("basis" in table and share != "equal_share"):
        raise fail(f"basis = {basis!r} is not possible here",
                   'basis goes with equal_share: "net" (default) or "gross"')
    order = table.get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int)):
        raise fail(f"order = {order!r} is not a whole number", "e.g. order = 1")
    selectors = {}
    for key in ("platform", "client", "contract", "category"):
        value_ = table.get(key)
        if value_ is not None and not isinstance(value_, str):
            raise fail(f"{key} must be a text (a glob such as \"Acme*\")", f'{key} = "..."')
        selectors[key] = value_
    start, until = (_date(table.get(k), lambda m, k=k: fail(f"{k} {m}", f"{k} = 2024-06-01"))
                    for k in ("from", "until"))
    if start and until and until <= start:
        raise fail(f"until {until} is not after from {start}",
                   "until is the first day the rule no longer applies")
    if units == "file" and share == "per_unit" and (selectors["platform"]
                                                    or selectors["category"]):
        raise fail("a per_unit rule reading units.csv matches by worker, unit, contract and "
                   "dates only", "remove platform and category")
    return Split(number, str(rule_id) if rule_id else None, tuple(resolved), share, value,
                 unit, currency, selectors["platform"], selectors["client"],
                 selectors["contract"], selectors["category"], start, until, order,
                 bool(table.get("final", False)), fx, basis,
                 bool(table.get("include_self", True)), units, line)


def _decimal(value: Any, fail) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail(f"{value!r} is not a number")
    try:
        number = Decimal(str(value).strip())  # a TOML float by its shortest repr
    except InvalidOperation:
        raise fail(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise fail(f"{value!r} is not a number")
    return number


def _date(value: Any, fail) -> dt.date | None:
    from ledger.core.config import as_date

    try:
        return as_date(value)
    except ValueError:
        raise fail(f"{value!r} is not a date YYYY-MM-DD") from None


# --- exact decimals -------------------------------------------------------------------------


def wlit(value: Decimal | int) -> pl.Expr:
    import polars as pl

    from ledger.core.money import decimal_lit

    return decimal_lit(value, pl.Decimal(38, WORK))


def work(expr: pl.Expr) -> pl.Expr:
    import polars as pl

    return expr.cast(pl.Decimal(38, WORK))


def frame_sum(frame: pl.DataFrame, column: str = "value") -> Decimal:
    if frame.is_empty():
        return Decimal(0)
    total = frame[column].sum()
    return Decimal(total) if total is not None else Decimal(0)
