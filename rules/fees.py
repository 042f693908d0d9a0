"""Fee schedules: effective-dated rules per platform, payment provider and tax, each with its
source, and the two things they are for (docs/fees.md): deriving the fee a source folded into a
net amount (`apply_rules`), and the fee a schedule expects for an amount (`expected_fee`,
`fee_expr`), which ledger/fee_check.py compares with what was charged and rules/quote.py
walks hop by hop.

The bundled schedule is rules/data/fees.toml. A ledger's ledger.toml adds or replaces rules in
a `[fees]` table of the same shape, `[[fees.<provider>.<kind>]]`:

    [[fees.upwork.service_fee]]          # same id as a bundled rule: replaces it; fields
    id = "upwork.service_fee.2025-05-01" # left out are taken from the bundled rule, except
    default_rate = "0.12"                # source ("ledger.toml") and confidence ("user")

    [[fees.payoneer.fx_margin]]          # a new id adds a rule
    id = "payoneer.fx_margin.mine"
    from = 2024-01-01
    rate = "0.015"
    source = "measured on my statements"

    [[fees.upwork.service_fee]]          # enabled = false removes a bundled rule
    id = "upwork.service_fee.2023-05-03.legacy-5"
    enabled = false

    [fees.options]
    prior_billings = { "Acme Corp" = "12500.00" }  # billed before this ledger's first row
    tax_status = "pseb"          # Pakistan s.154A: pseb, filer (default), non_filer,
                                 # home_remittance

Rule fields: `id`; `from` (inclusive) / `until` (exclusive) dates; `type`:
- `percent` (default): rate x amount + `fixed` (a string in `currency`, default USD, or a
  table per currency), then `min`/`max`, nothing from `free_from` up, plus `tax_on_fee`
  (a rate on the fee, e.g. India's GST on PayPal's fee);
- `tiered`: marginal `tiers` ([{upto, rate}, ..., {rate}]) on the client's lifetime billings
  (`basis = "client_lifetime"`); `legacy_tiers` for clients billed before `from`;
- `per_contract`: the contract's own rate, `default_rate` when unknown, `min_rate`..`max_rate`;
- `by_status`: `rates` per taxpayer status, `default_status`;
- `unavailable` (the provider does not serve that case) and `unknown` (no published rate);
- `measured`: not a schedule but what the rows themselves show (a fee inside an amount, a
  withdrawal that delivered another currency, a credit short of what was sent): see
  `apply_rules`; `enabled = false` in ledger.toml turns one off.
Selectors (`method`, `country`, `scope`, `into`, `project_type`, `payer`, `booked_as`,
`contract_type`; a string or a list) restrict a rule to a case; the most specific matching
rule wins. `only_if_prior_billings_over` limits a rule to clients billed more than that before
its `from`. `round = false` keeps a figure unrounded (FX margins); otherwise a fee is rounded
to the currency's minor unit, half-even, as the platforms charge per transaction. Rates and
money are decimal strings (a TOML float is read by its shortest repr, never as binary).
`source` and `confidence` ("confirmed" or "unconfirmed") are reported with every use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import DataError, UsageError
from ledger.user_rules import from_source

if TYPE_CHECKING:
    import polars as pl

    from ledger.store import Ledger

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
NET_OF_FEE = "net_of_fee"
"""Category an importer gives an earning shown after the platform's fee (Fiverr)."""
GROSS_CATEGORY = "gross"
WORK = 12
"""Decimal scale of intermediate figures: rate x amount is exact before the one rounding."""


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
        return load_schedule(ledger.config(), where=str(ledger.config_path))

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
    import tomllib

    with open(BUNDLED, "rb") as handle:
        return tomllib.load(handle, parse_float=Decimal)


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
    name = name.strip().lower().split(":")[0]
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
    from ledger.config import as_date

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


# --- expected fees ------------------------------------------------------------------------

def quantum(currency: str) -> Decimal:
    from ledger.money import minor_units

    return Decimal(1).scaleb(-minor_units(currency))


def round_to(amount: Decimal, currency: str) -> Decimal:
    """Half-even to the currency's minor unit: how a charged fee is rounded."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


def marginal(prior: Decimal, amount: Decimal, tiers: tuple[Tier, ...]) -> Decimal:
    """Fee on `amount` billed after `prior`, each slice at its tier's rate (unrounded)."""
    fee = Decimal(0)
    lower = Decimal(0)
    for tier in tiers:
        upper = tier.upto
        top = prior + amount if upper is None else min(prior + amount, upper)
        fee += max(top - max(prior, lower), Decimal(0)) * tier.rate
        if upper is not None:
            lower = upper
    return fee


def status_rate(rule: Rule, status: str | None) -> Decimal:
    chosen = status or rule.default_status or "filer"
    if chosen not in rule.rates:
        raise UsageError(f"rule {rule.id} has no rate for status {chosen!r}",
                         hint="statuses: " + ", ".join(rule.rates))
    return rule.rates[chosen]


def expected_fee(rule: Rule, amount: Decimal, context: Mapping[str, Any] | None = None
                 ) -> Decimal:
    """The fee `rule` takes from `amount` (a positive number), rounded as the provider does.

    context: `currency` of the amount (default the rule's), `prior` lifetime billings with the
    client before this amount and `legacy` (tiered), `contract_rate` (per_contract),
    `status` (by_status).
    """
    context = context or {}
    currency = context.get("currency") or rule.currency
    if amount < 0:
        raise UsageError(f"a fee is computed on a positive amount, not {amount}")
    if rule.type == "unavailable":
        raise DataError(f"{rule.provider} {rule.kind}: {rule.note or 'not available'}",
                        hint=f"rule {rule.id}, source {rule.source}")
    if rule.type == "measured":
        raise DataError(f"rule {rule.id} is measured from your rows, not computed",
                        hint=rule.note or "see `ledger report`")
    if rule.type == "unknown":
        raise DataError(f"rule {rule.id} has no published rate",
                        hint=f"{rule.note or ''} Set one in ledger.toml: "
                        f'[[fees.{rule.provider}.{rule.kind}]] id = "{rule.id}" rate = "..."')
    if rule.type == "tiered":
        tiers = rule.legacy_tiers if context.get("legacy") and rule.legacy_tiers else rule.tiers
        fee = marginal(Decimal(context.get("prior") or 0), amount, tiers)
    elif rule.type == "per_contract":
        fee = amount * Decimal(context.get("contract_rate") or rule.default_rate or 0)
    elif rule.type == "by_status":
        fee = amount * status_rate(rule, context.get("status"))
    else:
        fee = amount * (rule.rate or Decimal(0)) + rule.fixed_for(currency)
        if rule.free_from is not None and amount >= rule.free_from:
            fee = Decimal(0)
        if rule.minimum is not None:
            fee = max(fee, rule.minimum)
        if rule.maximum is not None:
            fee = min(fee, rule.maximum)
    if rule.round:
        fee = round_to(fee, currency)
    if rule.tax_on_fee:
        tax = fee * rule.tax_on_fee
        fee += round_to(tax, currency) if rule.round else tax
    return fee


def _w(value: Decimal | int) -> pl.Expr:
    import polars as pl

    return pl.lit(Decimal(value), dtype=pl.Decimal(38, WORK))


def fee_expr(rule: Rule, amount: pl.Expr, currency: str, *, prior: pl.Expr | None = None,
             legacy: pl.Expr | None = None, status: str | None = None) -> pl.Expr:
    """Vectorised `expected_fee` for rows of one currency: Decimal(38, 4), null where the rule
    cannot say (no fixed amount in that currency, no published rate).

    Works at scale 12 so rate x amount is exact before the single half-even rounding.
    """
    import polars as pl

    from ledger.money import minor_units

    x = amount.cast(pl.Decimal(38, WORK))
    null = pl.lit(None, dtype=pl.Decimal(38, WORK))
    if rule.type in ("unavailable", "unknown", "measured"):
        return null.cast(pl.Decimal(38, 4))
    if rule.type == "tiered":
        before = (prior if prior is not None else pl.lit(0)).cast(pl.Decimal(38, WORK))
        fee = _marginal_expr(before, x, rule.tiers)
        if rule.legacy_tiers and legacy is not None:
            fee = pl.when(legacy).then(_marginal_expr(before, x, rule.legacy_tiers)
                                       ).otherwise(fee)
    elif rule.type == "per_contract":
        fee = x * _w(rule.default_rate or 0)
    elif rule.type == "by_status":
        fee = x * _w(status_rate(rule, status))
    else:
        if rule.fixed and currency not in rule.fixed:
            return null.cast(pl.Decimal(38, 4))
        fee = x * _w(rule.rate or 0) + _w(rule.fixed_for(currency))
        if rule.free_from is not None:
            fee = pl.when(x >= _w(rule.free_from)).then(_w(0)).otherwise(fee)
        if rule.minimum is not None:
            fee = pl.max_horizontal(fee, _w(rule.minimum))
        if rule.maximum is not None:
            fee = pl.min_horizontal(fee, _w(rule.maximum))
    digits = minor_units(currency)
    if rule.round:
        fee = fee.round(digits)
    if rule.tax_on_fee:
        tax = fee * _w(rule.tax_on_fee)
        fee = fee + (tax.round(digits) if rule.round else tax)
    return fee.cast(pl.Decimal(38, 4))


def _marginal_expr(prior: pl.Expr, amount: pl.Expr, tiers: tuple[Tier, ...]) -> pl.Expr:
    import polars as pl

    fee = _w(0)
    lower = Decimal(0)
    for tier in tiers:
        end = prior + amount
        top = end if tier.upto is None else pl.min_horizontal(end, _w(tier.upto))
        slice_ = (top - pl.max_horizontal(prior, _w(lower))).clip(lower_bound=_w(0))
        fee = fee + slice_ * _w(tier.rate)
        if tier.upto is not None:
            lower = tier.upto
    return fee


def assign(rules: list[Rule], context: Mapping[str, pl.Expr] | None = None,
           billings_before: Callable[[dt.date], pl.Expr] | None = None) -> pl.Expr:
    """Per row, the index in `rules` of the most specific rule in effect on the row's date
    (null where none): the vectorised `Schedule.find`, one pass per rule, not per row.

    `context` maps selector names to expressions (e.g. {"country": pl.lit("PH")}); a rule
    with `only_if_prior_billings_over` needs `billings_before(date)`, an expression giving
    each row's client billings before that date.
    """
    import polars as pl

    context = context or {}
    order = sorted(range(len(rules)), key=lambda i: (len(rules[i].match)
                                                     + (rules[i].prior_over is not None),
                                                     rules[i].start or dt.date.min, i))
    chosen = pl.lit(None, dtype=pl.Int32)
    for index in order:
        rule = rules[index]
        hit = pl.lit(True)
        if rule.start is not None:
            hit = hit & (pl.col("date") >= rule.start)
        if rule.end is not None:
            hit = hit & (pl.col("date") < rule.end)
        for key, allowed in rule.match.items():
            value = context.get(key)
            if value is None:
                hit = pl.lit(False)
                break
            hit = hit & value.cast(pl.String).str.to_uppercase().is_in(list(allowed)
                                                                       ).fill_null(False)
        if rule.prior_over is not None:
            if billings_before is None or rule.start is None:
                hit = pl.lit(False)
            else:
                hit = hit & (billings_before(rule.start) > _w(rule.prior_over))
        chosen = pl.when(hit).then(pl.lit(index, dtype=pl.Int32)).otherwise(chosen)
    return chosen


# --- derived fees -------------------------------------------------------------------------

def needs_derivation(net_accounts: list[str] | None = None) -> pl.Expr:
    """Rows whose amount is net of a platform fee the source did not show: `net_of_fee`
    earnings, and refunds of earlier earnings on accounts whose earnings are net (a Fiverr
    cancellation takes back the 80% the order credited, not the order value)."""
    import polars as pl

    earning = (pl.col("kind") == "earning") & (pl.col("category") == NET_OF_FEE)
    if not net_accounts:
        return earning
    refund = ((pl.col("kind") == "refund") & from_source(pl.col("origin"))
              & pl.col("related_ref").is_not_null()
              & pl.col("account").is_in(net_accounts))
    return earning | refund.fill_null(False)


def net_accounts(rows: pl.DataFrame) -> list[str]:
    """Accounts with `net_of_fee` earnings in `rows` (whose refunds are net as well)."""

    return sorted(rows.filter(needs_derivation())["account"].unique().to_list())


def derive_fees(rows: pl.DataFrame, schedule: Schedule,
                accounts: list[str] | None = None) -> pl.DataFrame:
    """For each `net_of_fee` earning in `rows` (and each refund on `accounts`, whose
    earnings are net: the refund becomes the order value returned and the fee given back),
    two canonical rows that replace it:

    - the gross earning, `net / (1 - rate)` rounded to the currency's minor unit, category
      `gross`, same ref, counterparty, contract, hours, date, line and import id;
    - the platform's fee, `net - gross` (negative), kind `platform_fee`, category the rule's
      kind (`service_fee`), related_ref the earning's ref (its new id when it has none).
    Both have origin `rule:<rule id>` and ids sha256(original id + `:gross`/`:fee`), so they
    are stable and re-deriving gives the same rows. Gross + fee is exactly the net shown.
    Only pure-rate rules can be inverted; anything else is a DataError naming the row.
    """
    import polars as pl

    from ledger import schema
    from ledger.money import minor_units

    net = rows.filter(needs_derivation(accounts))
    if net.is_empty():
        return schema.empty()
    net = net.with_columns(pl.col("source").str.split(":").list.first().alias("_platform"))
    parts = []
    for platform in sorted(net["_platform"].unique().to_list()):
        rules = schedule.rules_for(platform, "service_fee")
        part = net.filter(pl.col("_platform") == platform).with_columns(
            assign(rules).alias("_rule"))
        missing = part.filter(pl.col("_rule").is_null())
        if missing.height:
            row = missing.row(0, named=True)
            raise DataError(
                f"no {platform} service fee rule for {row['date']} to derive the gross of a "
                f"net amount (row {row['id']}, import {row['import_id'][:12]}, line "
                f"{row['line']})",
                hint=f"add one to ledger.toml: [[fees.{platform}.service_fee]] id = \"...\" "
                f'from = {row["date"]} rate = "0.20" source = "..."')
        table = []
        for index in sorted(part["_rule"].unique().to_list()):
            rule = rules[index]
            rate = rule.default_rate if rule.type == "per_contract" else rule.rate
            if rule.type not in ("percent", "per_contract") or rate is None or rule.fixed \
                    or rule.minimum is not None or rule.maximum is not None \
                    or rule.free_from is not None or rule.tax_on_fee:
                raise DataError(f"cannot derive a gross amount from rule {rule.id} "
                                f"({rule.describe()}): only a plain rate can be inverted",
                                hint=f"give {platform} a plain-rate service_fee rule in "
                                "ledger.toml")
            table.append({"_rule": index, "_rate": rate, "_rule_id": rule.id,
                          "_label": pct(rate)})
        rates = pl.DataFrame(table, schema={"_rule": pl.Int32, "_rate": pl.Decimal(38, WORK),
                                            "_rule_id": pl.String, "_label": pl.String})
        parts.append(part.join(rates, on="_rule", how="left", maintain_order="left"))
    net = pl.concat(parts)
    gross_exact = pl.col("amount").cast(pl.Decimal(38, WORK)) / (_w(1) - pl.col("_rate"))
    gross = pl.lit(None, dtype=pl.Decimal(38, WORK))
    for currency in net["currency"].unique().to_list():
        gross = pl.when(pl.col("currency") == currency).then(
            gross_exact.round(minor_units(currency))).otherwise(gross)
    net = net.with_columns(gross.cast(pl.Decimal(38, 4)).alias("_gross"),
                           (pl.lit("rule:") + pl.col("_rule_id")).alias("origin"))
    from ledger.schema import sha256_hex

    gross_id = sha256_hex(pl.col("id") + pl.lit(":gross")).str.slice(0, schema.ID_HEX)
    fee_id = sha256_hex(pl.col("id") + pl.lit(":fee")).str.slice(0, schema.ID_HEX)
    platform_name = pl.col("_platform").str.to_titlecase()
    gross_rows = net.with_columns(
        id=gross_id, amount=pl.col("_gross"), category=pl.lit(GROSS_CATEGORY),
        description=pl.col("description") + pl.lit(" (gross before the ") + pl.col("_label")
        + pl.lit(" fee, derived)"))
    fee_rows = net.with_columns(
        id=fee_id, kind=pl.lit("platform_fee"), category=pl.lit("service_fee"),
        amount=pl.col("amount") - pl.col("_gross"), hours=pl.lit(None, dtype=pl.Float64),
        ref=pl.lit(None, dtype=pl.String),
        related_ref=pl.coalesce(pl.col("ref"), gross_id),
        description=platform_name + pl.lit(" service fee ") + pl.col("_label")
        + pl.when(pl.col("kind") == "refund").then(pl.lit(" given back with a refund"))
        .otherwise(pl.lit("")) + pl.lit(" (derived by rule ") + pl.col("_rule_id")
        + pl.lit(")"))
    return schema.conform(pl.concat([gross_rows, fee_rows], how="diagonal_relaxed"))


# --- what the rows themselves show: fees inside amounts, conversions, deductions -----------

MATCH_DAYS = 7
"""A transfer credited more than this many days after it was sent is not matched."""
PLATFORM_NAMES = {"upwork": "upwork", "payoneer": "payoneer", "paypal": "paypal",
                  "wise": "wise|transferwise", "fiverr": "fiverr", "freelancer": "freelancer"}
"""Sender -> how a receiving statement names it (lower case regex), for intermediary matching."""
INCLUDED_FEE_RULE = ("transfers", "included_fee")
CONVERSION_RULE = ("transfers", "conversion")
INTERMEDIARY_RULE = ("deductions", "intermediary")
ARRIVAL_RULE = ("transfers", "arrival")


def _rule_of(rows: pl.DataFrame, schedule: Schedule, provider: str, kind: str
             ) -> pl.DataFrame:
    """`rows` with `_rule_id` (the rule in effect on each row's date; null where none)."""
    import polars as pl

    rules = schedule.rules_for(provider, kind)
    if not rules:
        return rows.with_columns(pl.lit(None, dtype=pl.String).alias("_rule_id"))
    ids = {i: r.id for i, r in enumerate(rules)}
    return rows.with_columns(assign(rules).alias("_rule_id")).with_columns(
        pl.col("_rule_id").replace_strict(ids, default=None, return_dtype=pl.String))


def _as_conversion(transfers: pl.DataFrame, origin: pl.Expr) -> list[pl.DataFrame]:
    """A transfer out that arrived as `_other` in `_other_cur`, as the three rows that replace
    it: an `fx` leg out (what left), an `fx` leg in (what arrived) and the transfer of what
    arrived, so the receiving account's credit is the same money."""
    import polars as pl

    key = pl.coalesce("ref", "id")
    common = {"origin": origin, "hours": pl.lit(None, dtype=pl.Float64)}
    return [
        transfers.with_columns(id=_derived_id("fx-out"), kind=pl.lit("fx"),
                               category=pl.lit("conversion"), related_ref=key,
                               ref=pl.lit(None, dtype=pl.String), **common),
        transfers.with_columns(id=_derived_id("fx-in"), kind=pl.lit("fx"),
                               category=pl.lit("conversion"), related_ref=key,
                               ref=pl.lit(None, dtype=pl.String), amount=pl.col("_other"),
                               currency=pl.col("_other_cur"), **common),
        transfers.with_columns(id=_derived_id("moved"), amount=-pl.col("_other"),
                               currency=pl.col("_other_cur"), **common)]


def arrived_conversions(rows: pl.DataFrame, arrivals: pl.DataFrame, schedule: Schedule
                        ) -> pl.DataFrame:
    """Withdrawals that only the receiving statement shows arrived in another currency
    (`ledger reconcile` matched them: Upwork's Direct to Local Bank in USD credited in PKR)
    become conversions like a `[delivered ...]` tag makes them, so their FX spread is in the
    report's FX cost. `arrivals`: id (the withdrawal), _other (what was credited, before the
    bank's own charge rows), _other_cur. Rule `transfers.arrival`; a no-op without it."""
    import polars as pl

    if arrivals.is_empty() or not schedule.rules_for(*ARRIVAL_RULE):
        return rows
    transfers = _rule_of(rows.filter(pl.col("kind") == "transfer").join(
        arrivals, on="id", how="inner"), schedule, *ARRIVAL_RULE).filter(
        pl.col("_rule_id").is_not_null() & (pl.col("_other_cur") != pl.col("currency")))
    if transfers.is_empty():
        return rows
    derived = _as_conversion(transfers, pl.lit("rule:") + pl.col("_rule_id"))
    return _replace(rows, transfers.select("id"), derived)


def _derived_id(suffix: str, column: str = "id") -> pl.Expr:
    import polars as pl

    from ledger import schema
    from ledger.schema import sha256_hex

    return sha256_hex(pl.col(column) + pl.lit(f":{suffix}")).str.slice(0, schema.ID_HEX)


def _replace(rows: pl.DataFrame, replaced: pl.DataFrame, derived: list[pl.DataFrame]
             ) -> pl.DataFrame:
    """`rows` without the `replaced` ids, plus the `derived` rows, stably sorted by date."""
    import polars as pl

    from ledger import schema

    if not derived:
        return rows
    kept = rows if replaced.is_empty() else rows.join(replaced.select("id"), on="id",
                                                         how="anti", maintain_order="left")
    new = schema.conform(pl.concat(derived, how="diagonal_relaxed"))
    return pl.concat([kept, new]).sort("date", maintain_order=True)


def split_included_fees(rows: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """A row whose amount includes a fee the export names (`[fee 6.00 USD included]`, Wise
    statements made without "fees shown separately") becomes two rows: the movement without
    the fee (amount + fee: -1000 sent incl. 6 -> -994; 800 credited after 2 -> 802) and the
    fee (-6, kind payment_fee, category included_fee). Same currency only; origin
    `rule:transfers.included_fee...`; ids sha256(id + `:net`/`:fee`)."""
    import polars as pl

    candidates = rows.filter(
        from_source(pl.col("origin"))
        & ~pl.col("kind").is_in(["platform_fee", "payment_fee", "bank_fee", "tax"])
        & pl.col("fee_included").is_not_null())
    if candidates.is_empty():
        return rows
    candidates = candidates.with_columns(pl.col("fee_included").alias("_fee"),
                                         pl.col("currency").alias("_fee_currency"))
    candidates = _rule_of(candidates, schedule, *INCLUDED_FEE_RULE).filter(
        pl.col("_rule_id").is_not_null() & (pl.col("_fee_currency") == pl.col("currency"))
        & (pl.col("_fee") > 0))
    if candidates.is_empty():
        return rows
    origin = pl.lit("rule:") + pl.col("_rule_id")
    platform = pl.col("source").str.split(":").list.first().str.to_titlecase()
    main = candidates.with_columns(id=_derived_id("net"), amount=pl.col("amount")
                                   + pl.col("_fee"), origin=origin)
    fee = candidates.with_columns(
        id=_derived_id("fee"), kind=pl.lit("payment_fee"), category=pl.lit("included_fee"),
        amount=-pl.col("_fee"), hours=pl.lit(None, dtype=pl.Float64),
        ref=pl.lit(None, dtype=pl.String), related_ref=pl.coalesce("ref", _derived_id("net")),
        description=platform + pl.lit(" fee inside the amount of: ") + pl.col("description")
        + pl.lit(" (split by rule ") + pl.col("_rule_id") + pl.lit(")"), origin=origin)
    return _replace(rows, candidates, [main, fee])


def _lone_legs(legs: pl.DataFrame) -> pl.DataFrame:
    """Conversion legs no other leg of the same account pairs with. Exports link the two
    legs either by a shared id in related_ref (PayPal, Wise) or by pointing at each other's
    ref (Payoneer): two legs are a pair when they share any of their ref/related_ref values."""
    import polars as pl

    if legs.is_empty():
        return legs
    links = legs.select("id", "account", pl.concat_list(
        pl.col("ref"), pl.col("related_ref")).alias("_link")).explode("_link").drop_nulls(
        "_link").unique()
    shared = links.group_by("account", "_link").agg(pl.col("id").n_unique().alias("_legs"))
    paired = links.join(shared.filter(pl.col("_legs") > 1), on=["account", "_link"]).select(
        "id").unique()
    return legs.join(paired, on="id", how="anti", maintain_order="left").filter(
        pl.col("related_ref").is_not_null() | pl.col("ref").is_not_null())


def split_conversions(rows: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Money that left in one currency and arrived in another is a conversion, whose FX cost
    (the value at the reference mid rate minus what arrived) the report counts:

    - a transfer out that delivered another currency (`[delivered 278500.00 PKR]` on a
      Payoneer or Wise withdrawal of USD) becomes an `fx` leg out (-1000 USD), an `fx` leg
      in (+278500 PKR) and the transfer of what was delivered (-278500 PKR), so a bank
      statement's credit of 278500 PKR is the same money arriving;
    - a conversion leg whose other leg is in no imported file (the Wise statement of the
      other currency) gets that leg from its `[delivered ...]` / `[sent ...]` tag.
    Derived rows have origin `rule:transfers.conversion...`, ids sha256(id + suffix).
    """
    import polars as pl

    has_tag = pl.col("counter_currency").is_not_null()
    transfers = rows.filter((pl.col("kind") == "transfer") & (pl.col("amount") < 0) & has_tag)
    lone = _lone_legs(rows.filter(pl.col("kind") == "fx")).filter(
        ((pl.col("amount") < 0) & has_tag)
        | ((pl.col("amount") > 0) & has_tag))
    if transfers.is_empty() and lone.is_empty():
        return rows
    derived: list[pl.DataFrame] = []
    replaced: list[pl.DataFrame] = []
    origin = pl.lit("rule:") + pl.col("_rule_id")
    if transfers.height:
        transfers = _rule_of(transfers.with_columns(
            pl.col("counter_amount").alias("_other"),
            pl.col("counter_currency").alias("_other_cur")),
            schedule, *CONVERSION_RULE).filter(
            pl.col("_rule_id").is_not_null() & (pl.col("_other_cur") != pl.col("currency"))
            & (pl.col("_other") > 0))
    if transfers.height:
        derived += _as_conversion(transfers, origin)
        replaced.append(transfers.select("id"))
    if lone.height:
        other = pl.when(pl.col("amount") < 0).then(pl.col("counter_amount")).otherwise(
            -pl.col("counter_amount"))
        other_cur = pl.col("counter_currency")
        lone = _rule_of(lone.with_columns(other.alias("_other"), other_cur.alias("_other_cur")),
                        schedule, *CONVERSION_RULE).filter(
            pl.col("_rule_id").is_not_null() & (pl.col("_other_cur") != pl.col("currency"))
            & pl.col("_other").is_not_null() & (pl.col("_other") != 0))
        if lone.height:
            derived.append(lone.with_columns(
                id=_derived_id("other-leg"), amount=pl.col("_other"),
                currency=pl.col("_other_cur"), ref=pl.lit(None, dtype=pl.String),
                related_ref=pl.coalesce("related_ref", "ref"),
                origin=origin, hours=pl.lit(None, dtype=pl.Float64),
                description=pl.col("description") + pl.lit(" (other leg, from the tag)")))
    gone = pl.concat(replaced) if replaced else rows.head(0).select("id")
    return _replace(rows, gone, derived)


def match_intermediary(rows: pl.DataFrame, schedule: Schedule,
                       matched: pl.DataFrame | None = None) -> pl.DataFrame:
    """Intermediary (correspondent) deductions, measured: a transfer out of one account and
    the transfer into another in the same currency within `MATCH_DAYS` days, where less
    arrived than was sent (at most the rule's `max` in its currency or `max_rate` of the
    amount) and the receiving row names the sender (`Inward Remittance PAYONEER INC`).
    Each transfer out is matched to at most one credit and back (mutual best: smallest
    difference, then soonest). The credit becomes the amount sent (a transfer) plus the
    deduction (kind bank_fee, category intermediary_deduction), origin
    `rule:deductions.intermediary...`. Equal amounts need no row.

    `matched` (out_id, in_id: the pairs `ledger reconcile` linked, the report passes them):
    only those pairs are candidates, so the report and reconcile agree on which credit was
    which withdrawal, and what reconcile leaves ambiguous gets no deduction (never guessed)."""
    import polars as pl

    rules = schedule.rules_for(*INTERMEDIARY_RULE)
    transfers = rows.filter(pl.col("kind") == "transfer")
    if not rules or transfers.is_empty():
        return rows
    outs = _rule_of(transfers.filter(pl.col("amount") < 0), schedule, *INTERMEDIARY_RULE
                    ).filter(pl.col("_rule_id").is_not_null())
    ins = transfers.filter(pl.col("amount") > 0)
    if outs.is_empty() or ins.is_empty():
        return rows
    platform = pl.col("source").str.split(":").list.first()
    outs = outs.select(
        pl.col("id").alias("_out_id"), pl.col("account").alias("_out_account"),
        pl.col("date").alias("_out_date"), "currency", (-pl.col("amount")).alias("_sent"),
        pl.col("ref").alias("_out_ref"), platform.replace_strict(
            PLATFORM_NAMES, default=None, return_dtype=pl.String).alias("_name"),
        "_rule_id",
        pl.int_ranges(0, MATCH_DAYS + 1).alias("_lag"))
    outs = outs.explode("_lag").with_columns(
        (pl.col("_out_date") + pl.duration(days=pl.col("_lag"))).alias("date"))
    pairs = outs.join(ins, on=["currency", "date"], how="inner").filter(
        pl.col("account") != pl.col("_out_account"))
    if matched is not None:
        pairs = pairs.join(matched.select(pl.col("out_id").alias("_out_id"),
                                          pl.col("in_id").alias("id")),
                           on=["_out_id", "id"], how="semi")
    if pairs.is_empty():
        return rows
    bound = pl.lit(None, dtype=pl.Decimal(38, 4))
    for rule in rules:
        cap = pl.lit(Decimal(0), dtype=pl.Decimal(38, 4))
        if rule.max_rate is not None:
            cap = (pl.col("_sent").cast(pl.Decimal(38, WORK)) * _w(rule.max_rate)).cast(
                pl.Decimal(38, 4))
        if rule.maximum is not None:
            fixed = pl.when(pl.col("currency") == rule.currency).then(
                pl.lit(rule.maximum, dtype=pl.Decimal(38, 4))).otherwise(
                pl.lit(Decimal(0), dtype=pl.Decimal(38, 4)))
            cap = pl.max_horizontal(cap, fixed)
        bound = pl.when(pl.col("_rule_id") == rule.id).then(cap).otherwise(bound)
    text = (pl.col("counterparty").fill_null("") + " " + pl.col("description")).str.to_lowercase()
    named = pl.when(pl.col("_name").is_null()).then(False).otherwise(
        text.str.contains(pl.col("_name")))
    pairs = pairs.with_columns((pl.col("_sent") - pl.col("amount")).alias("_diff")).filter(
        (pl.col("_diff") == 0) | ((pl.col("_diff") > 0) & (pl.col("_diff") <= bound) & named))
    if pairs.is_empty():
        return rows
    best_out = pairs.sort("_diff", "_lag", "id").group_by("_out_id", maintain_order=True).first()
    best = best_out.sort("_diff", "_lag", "_out_id").group_by("id", maintain_order=True).first()
    deducted = best.filter(pl.col("_diff") > 0)
    if deducted.is_empty():
        return rows
    origin = pl.lit("rule:") + pl.col("_rule_id")
    moved = deducted.with_columns(id=_derived_id("sent"), amount=pl.col("_sent"), origin=origin)
    fee = deducted.with_columns(
        id=_derived_id("deducted"), kind=pl.lit("bank_fee"),
        category=pl.lit("intermediary_deduction"), amount=-pl.col("_diff"),
        ref=pl.lit(None, dtype=pl.String),
        related_ref=pl.coalesce("_out_ref", "ref", _derived_id("sent")),
        hours=pl.lit(None, dtype=pl.Float64), origin=origin,
        description=pl.lit("Deducted on the way from ") + pl.col("_out_account")
        + pl.lit(": sent ") + pl.col("_sent").cast(pl.String) + pl.lit(", credited ")
        + pl.col("amount").cast(pl.String) + pl.lit(" ") + pl.col("currency")
        + pl.lit(" (measured by rule ") + pl.col("_rule_id") + pl.lit(")"))
    return _replace(rows, deducted.select("id"), [moved, fee])


def apply_rules(rows: pl.DataFrame, schedule: Schedule,
                window: tuple[dt.date, dt.date] | None = None,
                matched: pl.DataFrame | None = None) -> pl.DataFrame:
    """`rows` as the report counts them, each step a rule the schedule can turn off:
    net_of_fee earnings become gross + fee (`derive_fees`), fees inside amounts are split
    out (`split_included_fees`), cross-currency transfers become conversions
    (`split_conversions`), and short credits show their intermediary deduction
    (`match_intermediary`). Sorted by date (stable). Idempotent, and a no-op (the same
    frame) when no row calls for a rule.

    `window` (first, last day): only rows within `MATCH_DAYS` of it are kept and derived
    (a period's report), while which accounts are net of fees is read from all `rows`.
    `matched`: the transfer pairs `ledger reconcile` linked (see `match_intermediary`)."""
    import polars as pl

    if window is not None:
        accounts = net_accounts(rows)
        start, end = window
        margin = dt.timedelta(days=MATCH_DAYS)
        rows = rows.filter(pl.col("date").is_between(start - margin, end + margin))
    else:
        accounts = net_accounts(rows) if not rows.is_empty() else []
    mask = needs_derivation(accounts)
    if not rows.is_empty() and rows.select(mask.any()).item():
        derived = derive_fees(rows, schedule, accounts)
        kept = rows.filter(~mask.fill_null(False))
        rows = pl.concat([kept, derived]).sort("date", maintain_order=True)
    if rows.is_empty():
        return rows
    rows = split_included_fees(rows, schedule)
    rows = split_conversions(rows, schedule)
    return match_intermediary(rows, schedule, matched)
