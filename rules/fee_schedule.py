"""Fee rules and the schedule that holds them: rules/data/fees.toml with a ledger's `[fees]`
over it by id, each rule checked as it is read (errors name the rule and the file), and the
lookup of the most specific rule in effect for a provider, kind, date and case. The format is
documented in rules/fees.py, the module callers import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.core.errors import DataError, UsageError
from ledger.core.providers import provider_of

if TYPE_CHECKING:
    from ledger.store.directory import Ledger

BUNDLED = Path(__file__).parent / "data" / "fees.toml"

TYPES = ("percent", "tiered", "per_contract", "by_status", "unavailable", "unknown",
         "measured")
SELECTORS = ("method", "country", "scope", "into", "project_type", "payer", "booked_as",
             "contract_type")
CONFIDENCE = ("confirmed", "unconfirmed", "user")
MONEY_FIELDS = ("min", "max", "free_from", "min_transfer", "only_if_prior_billings_over")
RATE_FIELDS = ("rate", "tax_on_fee", "default_rate", "min_rate", "max_rate")
FIELDS = frozenset({"id", "from", "until", "type", "fixed", "currency", "round", "basis",
                    "tiers", "legacy_tiers", "rates", "default_status", "source", "confidence",
                    "note", "enabled", *MONEY_FIELDS, *RATE_FIELDS, *SELECTORS})
ALIASES = {"freelancer_com": "freelancer", "freelancer.com": "freelancer"}
"""Other spellings of a provider name -> the source name the importers use."""

LOCAL_CURRENCY = {"PK": "PKR", "PH": "PHP", "IN": "INR", "BD": "BDT", "NG": "NGN", "KE": "KES",
                  "ID": "IDR", "VN": "VND", "MY": "MYR", "LK": "LKR", "EG": "EGP", "US": "USD"}
"""A country's own currency (PayPal's domestic scope, a quote's destination country)."""
TAX_STATUSES = ("pseb", "filer", "non_filer", "home_remittance")


@dataclass(frozen=True)
class Tier:
    upto: Decimal | None
    rate: Decimal


@dataclass(frozen=True, eq=False)
class Rule:
    """One effective-dated fee rule (see the module docstring for the fields)."""

    id: str
    provider: str
    kind: str
    source: str
    confidence: str
    type: str = "percent"
    start: dt.date | None = None
    end: dt.date | None = None
    rate: Decimal | None = None
    fixed: Mapping[str, Decimal] = field(default_factory=dict)
    currency: str = "USD"
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    free_from: Decimal | None = None
    min_transfer: Decimal | None = None
    tax_on_fee: Decimal | None = None
    round: bool = True
    tiers: tuple[Tier, ...] = ()
    legacy_tiers: tuple[Tier, ...] = ()
    default_rate: Decimal | None = None
    min_rate: Decimal | None = None
    max_rate: Decimal | None = None
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    default_status: str | None = None
    prior_over: Decimal | None = None
    match: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    note: str | None = None
    origin: str = "bundled"

    def applies(self, date: dt.date) -> bool:
        return (self.start is None or date >= self.start) and (self.end is None
                                                                or date < self.end)

    def specificity(self, context: Mapping[str, Any]) -> int | None:
        """How many of the rule's conditions `context` meets; None if one fails."""
        score = 0
        for key, allowed in self.match.items():
            value = context.get(key)
            if value is None or str(value).upper() not in allowed:
                return None
            score += 1
        if self.prior_over is not None:
            billed = context.get("billings_before")
            if billed is None or self.start is None or billed(self.start) <= self.prior_over:
                return None
            score += 1
        return score

    def fixed_for(self, currency: str) -> Decimal:
        """The fixed part in `currency` (0 without one); an error if the rule lacks it."""
        if not self.fixed:
            return Decimal(0)
        if currency not in self.fixed:
            raise DataError(f"rule {self.id} has no fixed amount in {currency} (only "
                            f"{', '.join(self.fixed)})",
                            hint=f"add one in ledger.toml: [[fees.{self.provider}.{self.kind}]] "
                            f'id = "{self.id}" fixed = {{ {currency} = "..." }}')
        return self.fixed[currency]

    def describe(self) -> str:
        """The rule in a few words: `4.4% + 0.30 USD`, `20% to 500, 10% to 10000, 5% above`."""
        if self.type == "tiered":
            parts = [f"{pct(t.rate)} to {t.upto}" if t.upto is not None
                     else f"{pct(t.rate)} above" for t in self.tiers]
            return ", ".join(parts) + " (client lifetime billings)"
        if self.type == "per_contract":
            return (f"per contract {pct(self.min_rate or Decimal(0))}-"
                    f"{pct(self.max_rate or Decimal(1))}, default {pct(self.default_rate or 0)}")
        if self.type == "by_status":
            return ", ".join(f"{k} {pct(v)}" for k, v in self.rates.items())
        if self.type == "measured":
            return "measured from your own rows"
        if self.type in ("unavailable", "unknown"):
            return "not available" if self.type == "unavailable" else "unpublished"
        parts = [pct(self.rate)] if self.rate is not None else []
        if self.fixed:
            fixed = " / ".join(f"{v} {k}" for k, v in self.fixed.items())
            parts.append(f"+ {fixed}" if parts else fixed)
        text = " ".join(parts) or "0"
        extras = [f"min {self.minimum} {self.currency}" if self.minimum is not None else "",
                  f"max {self.maximum} {self.currency}" if self.maximum is not None else "",
                  f"free from {self.free_from} {self.currency}" if self.free_from else ""]
        extras = [e for e in extras if e]
        if extras:
            text += f" ({', '.join(extras)})"
        if self.tax_on_fee:
            text += f" + {pct(self.tax_on_fee)} tax on the fee"
        return text

    def as_dict(self) -> dict:
        """JSON-ready: what the rule is and where it comes from."""
        return {"id": self.id, "provider": self.provider, "kind": self.kind, "type": self.type,
                "from": self.start.isoformat() if self.start else None,
                "until": self.end.isoformat() if self.end else None,
                "rule": self.describe(), "source": self.source, "confidence": self.confidence,
                "note": self.note, "origin": self.origin,
                "match": {k: list(v) for k, v in self.match.items()}}


def pct(rate: Decimal | int | None) -> str:
    """0.044 -> `4.4%`."""
    value = (Decimal(rate or 0) * 100).normalize()
    return f"{value:f}%"


@dataclass
class Options:
    """Per-ledger facts the rules need: billings before the ledger, the taxpayer status."""

    prior_billings: dict[str, Decimal] = field(default_factory=dict)
    tax_status: str = "filer"


class Schedule:
    """All rules in effect (bundled plus the ledger's), looked up by provider, kind and date."""

    def __init__(self, rules: list[Rule], options: Options | None = None,
                 country: str | None = None) -> None:
        self.rules = rules
        self.options = options or Options()
        self.country = country.upper() if country else None
        self._by_id = {r.id: r for r in rules}

    @classmethod
    def for_ledger(cls, ledger: Ledger) -> Schedule:
        """The bundled schedule with the ledger's `[fees]` and `country` from ledger.toml."""
        return load_schedule(ledger.settings().tree, where=str(ledger.config_path))

    def get(self, rule_id: str) -> Rule:
        try:
            return self._by_id[rule_id]
        except KeyError:
            raise UsageError(f"no fee rule {rule_id!r}",
                             hint="`ledger fees --rules` lists them") from None

    def rules_for(self, provider: str, kind: str) -> list[Rule]:
        provider = _provider(provider)
        return [r for r in self.rules if r.provider == provider and r.kind == kind]

    def find(self, provider: str, kind: str, date: dt.date, **context: Any) -> Rule | None:
        """The most specific rule in effect on `date` matching `context`, or None."""
        best: tuple[int, dt.date, int] | None = None
        chosen = None
        for index, rule in enumerate(self.rules_for(provider, kind)):
            if not rule.applies(date):
                continue
            score = rule.specificity(context)
            if score is None:
                continue
            key = (score, rule.start or dt.date.min, index)
            if best is None or key > best:
                best, chosen = key, rule
        return chosen

    def rule_for(self, provider: str, kind: str, date: dt.date, **context: Any) -> Rule:
        """Like `find`, but no rule is an error listing the rules there are."""
        rule = self.find(provider, kind, date, **context)
        if rule is not None:
            return rule
        provider = _provider(provider)
        known = self.rules_for(provider, kind)
        where = ", ".join(f"{k}={v}" for k, v in context.items()
                          if k in SELECTORS and v is not None)
        listing = "; ".join(f"{r.id} [{r.start or '…'}, {r.end or '…'})"
                            + (f" {dict((k, list(v)) for k, v in r.match.items())}"
                               if r.match else "") for r in known) or "none"
        raise DataError(
            f"no {provider} {kind} rule for {date}" + (f" ({where})" if where else ""),
            hint=f"known: {listing}. Add one to ledger.toml: [[fees.{provider}.{kind}]] "
            f'id = "..." from = {date} rate = "..." source = "..."')


def rule_for(provider: str, kind: str, date: dt.date, schedule: Schedule | None = None,
             **context: Any) -> Rule:
    """`Schedule.rule_for` on `schedule` (default: the bundled schedule alone)."""
    return (schedule or load_schedule()).rule_for(provider, kind, date, **context)


# --- loading ------------------------------------------------------------------------------

@cache
def _bundled_raw() -> dict:
    """rules/data/fees.toml as parsed, kept in the user cache by the file's size and CRC and
    the Python version (rules/frame_cache.py): parsing it costs ~0.003 s of every command that
    counts fees, reading the kept copy a tenth of that."""
    import sys
    import zlib

    from rules import frame_cache

    text = BUNDLED.read_bytes()
    key = f"{len(text)}-{zlib.crc32(text):08x}-py{sys.version_info[0]}{sys.version_info[1]}"
    path = frame_cache.folder("fees", key, tables=False) / "fees.pickle"
    return frame_cache.cached_value(path, lambda: _parsed(text), dict)


def _parsed(text: bytes) -> dict:
    import tomllib

    return tomllib.loads(text.decode("utf-8"), parse_float=Decimal)


def load_schedule(config: Mapping[str, Any] | None = None, *, where: str = "ledger.toml"
                  ) -> Schedule:
    """The bundled rules, then `config["fees"]` (a ledger.toml dict) over them by id."""
    tables = _tables(_bundled_raw(), str(BUNDLED))
    by_id: dict[str, tuple[str, str, dict, str]] = {}
    for provider, kind, table in tables:
        if table["id"] in by_id:
            raise DataError(f"two bundled fee rules share the id {table['id']!r}",
                            path=BUNDLED)
        by_id[table["id"]] = (provider, kind, table, "bundled")
    config = config or {}
    fees = dict(config.get("fees") or {})
    options = _options(fees.pop("options", {}), where)
    for provider, kind, table in _tables(fees, where):
        known = by_id.get(table["id"])
        if known is not None:
            merged = {k: v for k, v in known[2].items() if k not in ("source", "confidence")}
            table = {**merged, **table}
        by_id[table["id"]] = (provider, kind, table, "ledger.toml")
    rules = []
    for provider, kind, table, origin in by_id.values():
        if table.get("enabled", True) is False:
            continue
        rules.append(_rule(provider, kind, table, origin,
                           str(BUNDLED) if origin == "bundled" else where))
    country = config.get("country")
    return Schedule(rules, options, country if isinstance(country, str) else None)


def _provider(name: str) -> str:
    name = provider_of(name.strip().lower())
    return ALIASES.get(name, name)


def _tables(tree: Mapping[str, Any], where: str) -> list[tuple[str, str, dict]]:
    """(provider, kind, rule table) for every `[[provider.kind]]` entry."""
    error = DataError if where == str(BUNDLED) else UsageError
    out = []
    for provider, kinds in tree.items():
        if not isinstance(kinds, dict):
            raise error(f"[fees.{provider}] must be a table of rule lists", path=where,
                        hint='e.g. [[fees.upwork.service_fee]] id = "..." rate = "0.10"')
        for kind, entries in kinds.items():
            entries = [entries] if isinstance(entries, dict) else entries
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise error(f"fees.{provider}.{kind} must be [[fees.{provider}.{kind}]] "
                            "tables", path=where, hint="see `ledger fees --help`")
            for entry in entries:
                if not isinstance(entry.get("id"), str) or not entry["id"].strip():
                    raise error(f"a rule in fees.{provider}.{kind} has no id", path=where,
                                hint="give each rule an id: a bundled one to replace it, a new "
                                "one to add a rule (`ledger fees --rules` lists them)")
                out.append((_provider(provider), kind, dict(entry)))
    return out


def _options(table: Any, where: str) -> Options:
    if not isinstance(table, dict):
        raise UsageError("[fees.options] must be a table", path=where)
    unknown = sorted(set(table) - {"prior_billings", "tax_status"})
    if unknown:
        raise UsageError(f"unknown setting(s) {unknown} in [fees.options]", path=where,
                         hint="known: prior_billings, tax_status")
    prior = table.get("prior_billings", {})
    if not isinstance(prior, dict):
        raise UsageError("fees.options.prior_billings must be a table client = amount",
                         path=where, hint='e.g. prior_billings = { "Acme Corp" = "12500" }')
    status = table.get("tax_status", "filer")
    if status not in TAX_STATUSES:
        raise UsageError(f"unknown tax_status {status!r}", path=where,
                         hint="one of " + ", ".join(TAX_STATUSES))
    return Options({str(k): _decimal(v, where, f"prior_billings.{k}") for k, v in prior.items()},
                   status)


def _decimal(value: Any, where: str, name: str) -> Decimal:
    if isinstance(value, bool):
        raise UsageError(f"{name} must be a number", path=where)
    if isinstance(value, float):
        value = repr(value)  # the digits the user typed, never the binary value
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise UsageError(f"{name} = {value!r} is not a number", path=where,
                         hint='write amounts and rates as strings, e.g. rate = "0.10"') from None


def _rate(value: Any, where: str, name: str) -> Decimal:
    rate = _decimal(value, where, name)
    if not Decimal(0) <= rate < Decimal(1):
        raise UsageError(f"{name} = {value!r} is not a rate between 0 and 1", path=where,
                         hint='rates are fractions: 10% is rate = "0.10"')
    return rate


def _date(value: Any, where: str, name: str) -> dt.date | None:
    from ledger.core.config import as_date

    try:
        return as_date(value)
    except ValueError:
        raise UsageError(f"{name} = {value!r} is not a date", path=where,
                         hint="write dates as YYYY-MM-DD") from None


def _tiers(value: Any, where: str, name: str) -> tuple[Tier, ...]:
    if not value:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise UsageError(f"{name} must be a list of {{ upto, rate }} tables", path=where)
    tiers = tuple(Tier(_decimal(t["upto"], where, f"{name}.upto") if "upto" in t else None,
                       _rate(t.get("rate"), where, f"{name}.rate")) for t in value)
    bounds = [t.upto for t in tiers]
    if any(b is None for b in bounds[:-1]) or bounds[-1] is not None or bounds[:-1] != sorted(
            b for b in bounds[:-1] if b is not None):
        raise UsageError(f"{name}: each tier but the last needs a rising `upto`, the last none",
                         path=where, hint='e.g. [ { upto = "500", rate = "0.20" }, '
                         '{ rate = "0.10" } ]')
    return tiers


def _rule(provider: str, kind: str, table: dict, origin: str, where: str) -> Rule:
    """Check one rule table and build the Rule; errors name the rule and the file."""
    rule_id = table["id"]
    label = f"rule {rule_id}"
    unknown = sorted(set(table) - FIELDS)
    if unknown:
        raise UsageError(f"{label}: unknown field(s) {unknown}", path=where,
                         hint="fields: " + ", ".join(sorted(FIELDS)))
    kind_of = table.get("type", "percent")
    if kind_of not in TYPES:
        raise UsageError(f"{label}: unknown type {kind_of!r}", path=where,
                         hint="one of " + ", ".join(TYPES))
    source = table.get("source", "ledger.toml" if origin != "bundled" else None)
    if not source:
        raise UsageError(f"{label}: no source", path=where, hint="every rule cites its source")
    confidence = table.get("confidence", "user" if origin != "bundled" else None)
    if confidence not in CONFIDENCE:
        raise UsageError(f"{label}: confidence must be one of {list(CONFIDENCE)}", path=where)
    currency = str(table.get("currency", "USD")).upper()
    fixed_raw = table.get("fixed")
    if fixed_raw is None:
        fixed: dict[str, Decimal] = {}
    elif isinstance(fixed_raw, dict):
        fixed = {str(k).upper(): _decimal(v, where, f"{label}.fixed.{k}")
                 for k, v in fixed_raw.items()}
    else:
        fixed = {currency: _decimal(fixed_raw, where, f"{label}.fixed")}
    money = {name: _decimal(table[name], where, f"{label}.{name}") if name in table else None
             for name in MONEY_FIELDS}
    rates = {name: _rate(table[name], where, f"{label}.{name}") if name in table else None
             for name in RATE_FIELDS}
    by_status = table.get("rates", {})
    if not isinstance(by_status, dict):
        raise UsageError(f"{label}: rates must be a table status = rate", path=where)
    match = {}
    for key in SELECTORS:
        if key in table:
            values = table[key] if isinstance(table[key], list) else [table[key]]
            match[key] = tuple(str(v).upper() for v in values)
    rule = Rule(
        id=rule_id, provider=provider, kind=kind, source=str(source), confidence=confidence,
        type=kind_of, start=_date(table.get("from"), where, f"{label}.from"),
        end=_date(table.get("until"), where, f"{label}.until"),
        rate=rates["rate"], fixed=fixed, currency=currency, minimum=money["min"],
        maximum=money["max"], free_from=money["free_from"], min_transfer=money["min_transfer"],
        tax_on_fee=rates["tax_on_fee"], round=bool(table.get("round", True)),
        tiers=_tiers(table.get("tiers"), where, f"{label}.tiers"),
        legacy_tiers=_tiers(table.get("legacy_tiers"), where, f"{label}.legacy_tiers"),
        default_rate=rates["default_rate"], min_rate=rates["min_rate"],
        max_rate=rates["max_rate"],
        rates={str(k): _rate(v, where, f"{label}.rates.{k}") for k, v in by_status.items()},
        default_status=table.get("default_status"),
        prior_over=money["only_if_prior_billings_over"], match=match,
        note=table.get("note"), origin=origin)
    _check_shape(rule, where)
    return rule


def _check_shape(rule: Rule, where: str) -> None:
    needs = {"tiered": rule.tiers, "per_contract": rule.default_rate is not None,
             "by_status": rule.rates,
             "percent": rule.rate is not None or bool(rule.fixed)}
    if rule.type in needs and not needs[rule.type]:
        what = {"tiered": "tiers", "per_contract": "default_rate", "by_status": "rates",
                "percent": "a rate or a fixed amount"}[rule.type]
        raise UsageError(f"rule {rule.id}: a {rule.type} rule needs {what}", path=where)
    if rule.start and rule.end and rule.start >= rule.end:
        raise UsageError(f"rule {rule.id}: `from` {rule.start} is not before `until` "
                         f"{rule.end}", path=where)

