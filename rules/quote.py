"""Quote (`ledger quote`): what a payment loses at each hop from client to local bank.

A route is the list of places the money passes, e.g. `upwork,payoneer,bank` or `paypal,bank`.
The first place takes its fee on the gross (platform service fee, or a wallet's receiving
fee); each move to the next place costs that move's withdrawal fee; the move into the bank
converts to the destination currency when it differs (the spread of whoever converts,
against the reference mid rate); the bank may withhold tax (Pakistan's s.154A on export
proceeds, by taxpayer status) and charge an inward fee (`[[fees.bank.inward_fee]]`, by
country). Every line names its rule and source.

Exact by construction: each fee is rounded to its currency's minor unit and subtracted, so
`amount_in - lines == amount_out` at every hop. Lines before the conversion are also valued
in the destination currency by the drop they cause in the running amount valued at the mid
rate (telescoping), so `gross_value - sum(line values) == arrived` holds exactly, and for a
route without conversion `gross - sum(lines) == arrived`.

`fx` is any object with `mid(date, from, to) -> (Decimal rate, provenance str)` (or a third
item, the date the rate is for, so a distant one is noted) that raises DataError when it has
no rate (ledger/cli/rules.py adapts the ledger's FX chain).

Assumptions, where the schedules say nothing: Upwork -> bank is Direct to Local Bank (ACH in
the US, a USD wire when the bank account is in USD); Upwork -> Wise is ACH to Wise's USD
details; Payoneer -> bank in the same currency is the foreign-currency-account withdrawal
(USD ACH in the US, Swift elsewhere except Pakistan's FCY accounts); a wallet that receives a
platform's payout charges no receiving fee; Freelancer.com -> bank is a wire converted by the
bank (`[[fees.bank.fx_margin]]` in ledger.toml sets its spread). PayPal payments are
`international` unless paid in the country's own currency.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

from ledger.core.errors import DataError, UsageError
from ledger.core.providers import PLATFORMS, WALLETS
from rules.fees import (
    LOCAL_CURRENCY,
    Rule,
    Schedule,
    expected_fee,
    load_schedule,
    pct,
    quantum,
    round_to,
    status_rate,
)

SCHEMA = "ledger.quote/1"

PLACES = (*PLATFORMS, *WALLETS, "bank")

HOPS: dict[tuple[str, str], str | None] = {
    ("upwork", "bank"): "direct_to_local_bank",
    ("upwork", "payoneer"): "payoneer",
    ("upwork", "paypal"): "paypal",
    ("upwork", "wise"): "ach_us",
    ("fiverr", "payoneer"): "bank_transfer_payoneer",
    ("fiverr", "paypal"): "paypal",
    ("freelancer", "payoneer"): "payoneer",
    ("freelancer", "paypal"): "paypal",
    ("freelancer", "bank"): "wire",
    ("paypal", "bank"): None,
    ("payoneer", "bank"): "local_currency",
    ("wise", "bank"): None,
}
"""Moves a route may make -> the withdrawal method it uses (None: set by the provider)."""

EXAMPLES = ("upwork,bank", "upwork,payoneer,bank", "upwork,paypal,bank", "upwork,wise,bank",
            "fiverr,payoneer,bank", "fiverr,paypal,bank", "freelancer,payoneer,bank",
            "paypal,bank", "payoneer,bank", "wise,bank")

NAMES = {"upwork": "Upwork", "fiverr": "Fiverr", "freelancer": "Freelancer.com",
         "paypal": "PayPal", "payoneer": "Payoneer", "wise": "Wise", "bank": "Bank"}

STALE_DAYS = 7
"""A mid rate dated further than this from the quote's date is used, with a note."""

SWIFT_NOTE = ("a Swift transfer: correspondent banks usually deduct $10-50 more (no schedule; "
              "measure yours as sent minus received)")


def history_key(a: str, b: str, sent: str, arrives: str) -> str:
    """How a measured hop is looked up in `quote(history=...)`: `upwork->bank USD->PKR`."""
    return f"{a}->{b} {sent}->{arrives}"


class MidRates(Protocol):
    def mid(self, date: dt.date, source: str, target: str) -> tuple: ...


@dataclass
class _Walk:
    """The running state of one quote."""

    amount: Decimal
    currency: str
    target: str
    mid: Decimal | None
    hops: list[dict] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def value(self) -> Decimal:
        """The running amount in the destination currency at the mid rate, rounded."""
        if self.currency == self.target or self.mid is None:
            return self.amount
        return round_to(self.amount * self.mid, self.target)

    def hop(self, at: str, step: str, to: str | None) -> dict:
        record = {"at": at, "step": step, "to": to, "currency_in": self.currency,
                  "amount_in": self.amount, "lines": [], "currency_out": self.currency,
                  "amount_out": self.amount}
        self.hops.append(record)
        return record

    def charge(self, hop: dict, what: str, kind: str, amount: Decimal,
               rule: Rule | None = None, note: str | None = None,
               basis: str | None = None) -> None:
        """Subtract a fee in the running currency, valued by the drop it causes."""
        amount = round_to(amount, self.currency)
        before = self.value()
        self.amount -= amount
        hop["lines"].append(_line(what, kind, amount, self.currency, before - self.value(),
                                  rule, note, basis))
        hop["amount_out"] = self.amount
        if rule is not None:
            self.rules[rule.id] = rule

    def convert(self, hop: dict, who: str, rule: Rule | None, note: str | None,
                measured: dict | None = None) -> None:
        """Convert the running amount into the destination currency, less the spread (your
        measured one when `measured`, else the rule's)."""
        assert self.mid is not None
        margin = rule.rate if rule is not None and rule.type == "percent" and rule.rate else 0
        if measured is not None:
            margin, rule = Decimal(measured["spread"]), None
        at_mid = self.value()
        received = round_to(self.amount * self.mid * (1 - Decimal(margin)), self.target)
        hop["currency_out"] = self.currency = self.target
        self.amount = received
        spread = at_mid - received
        shown = self.mid.quantize(Decimal("0.0001")).normalize()
        text = f"{who} FX spread {pct(margin)} vs mid {shown:f}"
        if measured is not None:
            text += f" (median of your last {measured['count']})"
            note = _evidence(measured)
        line = _line(text, "fx", spread, self.target, spread, rule, note,
                     "history" if measured is not None else None)
        line["unpriced"] = measured is None and (rule is None or rule.type != "percent")
        if line["unpriced"]:
            line["basis"] = "none"
        hop["lines"].append(line)
        hop["amount_out"] = self.amount
        hop["at_mid"] = at_mid
        if rule is not None:
            self.rules[rule.id] = rule


def _line(what: str, kind: str, amount: Decimal, currency: str, value: Decimal,
          rule: Rule | None, note: str | None, basis: str | None = None) -> dict:
    """One cost line; `basis` says what priced it: `schedule` (a published rule),
    `history` (your own transfers) or `none`."""
    return {"what": what, "kind": kind, "amount": amount, "currency": currency, "value": value,
            "basis": basis or ("schedule" if rule else "none"),
            "rule": rule.id if rule else None, "rule_text": rule.describe() if rule else None,
            "source": rule.source if rule else None,
            "confidence": rule.confidence if rule else None,
            "note": note if note is not None else (rule.note if rule else None),
            "unpriced": False}


def parse_route(route: str | list[str]) -> list[str]:
    """`upwork,payoneer,bank` (or `->` separated, or a list) -> checked list of places."""
    if isinstance(route, str):
        route = route.replace("->", ",").split(",")
    places = [p.strip().lower() for p in route if p.strip()]
    known = ", ".join(EXAMPLES)
    unknown = [p for p in places if p not in PLACES]
    if unknown or not places:
        raise UsageError(f"unknown route place(s) {unknown or ['(empty)']}",
                         hint=f"places: {', '.join(PLACES)}; known routes: {known}")
    if places[0] == "bank":
        raise UsageError("a route starts where the client pays: a platform or a wallet",
                         hint=f"known routes: {known}")
    for a, b in itertools.pairwise(places):
        if (a, b) not in HOPS:
            hops = ", ".join(f"{x}->{y}" for x, y in HOPS)
            raise UsageError(f"no known hop {a}->{b}",
                             hint=f"known hops: {hops}; known routes: {known}")
    return places


def quote(amount: Decimal, currency: str, route: str | list[str], to_currency: str,
          date: dt.date, fx: MidRates | None, *, schedule: Schedule | None = None,
          country: str | None = None, tax_status: str | None = None,
          client_billings: Decimal = Decimal(0), contract_rate: Decimal | None = None,
          project_type: str = "fixed_price", tax_on_fees: bool = True,
          history: dict[str, dict] | None = None) -> dict:
    """Each hop's fee lines (rule id + source) and the amount after it; what arrives.

    `client_billings`: what this client already paid you (Upwork's 2016-2023 tiers);
    `contract_rate`: the contract's own fee rate (Upwork's variable fee from 2025);
    `project_type`: Freelancer.com fixed_price, hourly, recruiter or contest; `tax_status`:
    pseb, filer, non_filer or home_remittance (Pakistan's s.154A; default from ledger.toml,
    else filer); `tax_on_fees=False` when your VAT/GST number exempts Upwork's fee from tax;
    `history`: what each hop cost you (ledger.quote_history, by `history_key`): a hop found
    there is priced by it (median spread, fees, deductions, days), the others by the schedule.
    """
    from ledger.core.money import known_currencies

    schedule = schedule or load_schedule()
    places = parse_route(route)
    currency, target = currency.upper(), to_currency.upper()
    for code in (currency, target):
        if code not in known_currencies():
            raise UsageError(f"unknown currency {code!r}",
                             hint="use an ISO 4217 code, e.g. USD, PKR, PHP, INR")
    amount = Decimal(amount)
    if amount <= 0:
        raise UsageError(f"the amount must be positive, not {amount}")
    if round_to(amount, currency) != amount:
        raise UsageError(f"{amount} {currency} has more decimals than {currency} has",
                         hint=f"round it to {quantum(currency)}")
    amount = round_to(amount, currency)
    if places[-1] != "bank" and target != currency:
        raise UsageError(f"the route ends at {places[-1]}, which holds {currency}",
                         hint=f"add ,bank to convert to {target}, or use --to {currency}")
    country = _country(country, schedule, target)
    status = tax_status or schedule.options.tax_status
    mid, provenance, rate_date = None, None, None
    notes: list[str] = []
    if target != currency:
        if fx is None:
            raise DataError(f"no {currency}->{target} rate for {date}",
                            hint="give the quote an FX source")
        found = fx.mid(date, currency, target)
        mid, provenance = Decimal(found[0]), found[1]
        rate_date = found[2] if len(found) > 2 else None
        if rate_date is not None and abs((rate_date - date).days) > STALE_DAYS:
            notes.append(f"the {currency}->{target} mid rate is from {rate_date}, "
                         f"{abs((rate_date - date).days)} days from {date}: add a closer one "
                         "to rates.csv (date,from,to,rate)")
    walk = _Walk(amount, currency, target, mid)
    walk.notes.extend(notes)
    gross_value = walk.value()
    ctx = {"country": country, "status": status, "client_billings": Decimal(client_billings),
           "contract_rate": contract_rate, "project_type": project_type,
           "tax_on_fees": tax_on_fees, "history": history or {}}
    _receive(walk, places, schedule, date, ctx)
    for a, b in itertools.pairwise(places):
        _move(walk, a, b, schedule, date, ctx)
    if places[-1] == "bank":
        _bank(walk, schedule, date, ctx)
    costs = sum((line["value"] for hop in walk.hops for line in hop["lines"]), Decimal(0))
    if gross_value - costs != walk.amount:  # pragma: no cover - the construction guarantees it
        raise AssertionError(f"quote does not foot: {gross_value} - {costs} != {walk.amount}")
    return {
        "schema": SCHEMA, "date": date.isoformat(), "route": places, "country": country,
        "tax_status": status, "gross": _s(amount), "currency": currency,
        "to_currency": target,
        "rate": None if mid is None else {"from": currency, "to": target,
                                          "rate": f"{mid.normalize():f}",
                                          "provenance": provenance,
                                          "rate_date": rate_date.isoformat() if rate_date
                                          else None},
        "gross_value": _s(gross_value),
        "hops": [_hop_json(h) for h in walk.hops],
        "total_cost": _s(costs),
        "effective_rate": f"{costs / gross_value:.4f}" if gross_value else None,
        "arrived": _s(walk.amount), "arrived_currency": walk.currency,
        "rules": [r.as_dict() for r in walk.rules.values()],
        "unpriced": [line["rule"] or line["what"] for hop in walk.hops
                     for line in hop["lines"] if line.get("unpriced")],
        "basis": [{"hop": f"{h['at']}->{h['to']}", "basis": h.get("basis") or (
                       "none" if any(x["unpriced"] for x in h["lines"]) else "schedule"),
                   **({"evidence": h["evidence"]} if "evidence" in h else {})}
                  for h in walk.hops if h["step"] == "withdraw"],
        "days": _s(sum((Decimal(h["evidence"]["days"]) for h in walk.hops
                        if "evidence" in h), Decimal(0)))
        if any("evidence" in h for h in walk.hops) else None,
        "notes": walk.notes,
    }


def _s(value: Decimal) -> str:
    return f"{value:f}"


def _hop_json(hop: dict) -> dict:
    out = {k: (_s(v) if isinstance(v, Decimal) else v) for k, v in hop.items() if k != "lines"}
    out["lines"] = [{k: (_s(v) if isinstance(v, Decimal) else v) for k, v in line.items()}
                    for line in hop["lines"]]
    return out


def _country(country: str | None, schedule: Schedule, target: str) -> str | None:
    if country:
        return country.upper()
    if schedule.country:
        return schedule.country
    by_currency = {v: k for k, v in LOCAL_CURRENCY.items() if v != "USD"}
    return by_currency.get(target)


def _fee(rule: Rule, walk: _Walk, **context: Any) -> Decimal:
    """The rule's fee on the running amount (on nothing once fees have eaten it all)."""
    return expected_fee(rule, max(walk.amount, Decimal(0)), {"currency": walk.currency,
                                                             **context})


def _served(schedule: Schedule, place: str, date: dt.date, country: str | None) -> None:
    """A wallet that does not serve the country is an error, with the rule's reason."""
    rule = schedule.find(place, "receive_fee", date, country=country)
    if rule is not None and rule.type == "unavailable":
        raise DataError(f"{NAMES[place]} is not available in {country}: {rule.note}",
                        hint=f"rule {rule.id} ({rule.source}); choose another route, e.g. "
                        + ", ".join(r for r in EXAMPLES if place not in r.split(",")))


def _receive(walk: _Walk, places: list[str], schedule: Schedule, date: dt.date,
             ctx: dict) -> None:
    """The first place's fee on the gross."""
    first = places[0]
    hop = walk.hop(first, "receive", None)
    if first in PLATFORMS:
        kind = "project_fee" if first == "freelancer" else "service_fee"
        rule = schedule.rule_for(first, kind, date, project_type=ctx["project_type"])
        fee = _fee(rule, walk, prior=ctx["client_billings"],
                   contract_rate=ctx["contract_rate"])
        text = rule.describe()
        if rule.type == "per_contract":
            used = ctx["contract_rate"] if ctx["contract_rate"] is not None else rule.default_rate
            text = f"{pct(used)} ({text})"
        elif rule.type == "tiered":
            text = f"{text}, {ctx['client_billings']} billed before"
        walk.charge(hop, f"{NAMES[first]} {kind.replace('_', ' ')} {text}", "platform_fee",
                    fee, rule)
        tax_rule = schedule.find(first, "tax_on_fees", date, country=ctx["country"])
        if tax_rule is not None and ctx["tax_on_fees"]:
            walk.charge(hop, f"{pct(tax_rule.rate)} VAT/GST on {NAMES[first]}'s fee",
                        "platform_fee", fee * (tax_rule.rate or 0), tax_rule)
        return
    _served(schedule, first, date, ctx["country"])
    if first == "paypal":
        local = LOCAL_CURRENCY.get(ctx["country"] or "")
        scope = "domestic" if walk.currency == local else "international"
        rule = schedule.rule_for("paypal", "receive_fee", date, country=ctx["country"],
                                 scope=scope)
    elif first == "payoneer":
        rule = schedule.rule_for("payoneer", "receive_fee", date, payer="client",
                                 country=ctx["country"])
    else:
        rule = schedule.rule_for("wise", "receive_fee", date, method="ach")
    walk.charge(hop, f"{NAMES[first]} receiving fee {rule.describe()}", "payment_fee",
                _fee(rule, walk), rule)


def _move(walk: _Walk, a: str, b: str, schedule: Schedule, date: dt.date, ctx: dict) -> None:
    """Withdraw from `a` into `b`, converting on the way into the bank."""
    hop = walk.hop(a, "withdraw", b)
    converts = b == "bank" and walk.currency != walk.target
    country = ctx["country"]
    method = HOPS[(a, b)]
    if a == "upwork" and b == "bank":
        method = ("ach_us" if country == "US" else
                  "wire_usd" if not converts else "direct_to_local_bank")
    if a == "payoneer" and not converts:
        method = ("usd_ach_us" if country == "US" else
                  "fcy_account" if country == "PK" else "usd_swift")
    seen = ctx["history"].get(history_key(a, b, walk.currency,
                                          walk.target if converts else walk.currency))
    if seen is not None and (not converts or seen.get("spread") is not None):
        _measured_move(walk, hop, a, b, seen, converts)
        return
    if method in ("wire", "wire_usd", "usd_swift"):
        walk.notes.append(f"{a} -> {b} is {SWIFT_NOTE}")
    if a in PLATFORMS or a == "payoneer":
        rule = schedule.rule_for(a, "withdrawal_fee", date, method=method, country=country)
        walk.charge(hop, f"{NAMES[a]} withdrawal fee ({method}) {rule.describe()}",
                    "payment_fee", _fee(rule, walk), rule)
    if a == "wise" and converts:
        rule = schedule.rule_for("wise", "conversion_fee", date, into=walk.target)
        walk.charge(hop, f"Wise conversion fee {rule.describe()} (fixed part not included)",
                    "payment_fee", _fee(rule, walk), rule)
    if converts:
        who = "bank" if a in ("freelancer", "fiverr") else a
        rule = schedule.find(who, "fx_margin", date, method=method, country=country,
                             into=walk.target)
        note = None
        if rule is None:
            note = (f"the {who} converts at its own, unpublished rate: the mid rate is used; set "
                    f"[[fees.{who}.fx_margin]] rate in ledger.toml when you know it")
            walk.notes.append(note)
        elif rule.type == "unknown":
            walk.notes.append(f"{rule.id}: {rule.note}")
        walk.convert(hop, NAMES[who], rule, note)
    if a == "paypal" and b == "bank":
        rule = schedule.find("paypal", "withdrawal_fee", date, country=country)
        if rule is None or (rule.fixed and walk.currency not in rule.fixed):
            walk.notes.append(f"no PayPal withdrawal fee known for {country or 'your country'} "
                              f"in {walk.currency}")
        else:
            walk.charge(hop, f"PayPal withdrawal fee {rule.describe()}", "payment_fee",
                        _fee(rule, walk), rule)
    if a in PLATFORMS and b in WALLETS:
        _served(schedule, b, date, country)
        rule = schedule.find(b, "receive_fee", date, payer="marketplace")
        if rule is not None:
            walk.charge(hop, f"{NAMES[b]} receiving a platform payout {rule.describe()}",
                        "payment_fee", _fee(rule, walk), rule)


def _evidence(seen: dict) -> str:
    return (f"median of your last {seen['count']} {seen['hop']} transfers, sent "
            f"{seen['first']} to {seen['last']} (ledger reconcile's matches); "
            f"{seen['days']} days in transit")


def _measured_move(walk: _Walk, hop: dict, a: str, b: str, seen: dict, converts: bool
                   ) -> None:
    """A hop priced from your own transfers: their median fees, deductions and spread."""
    hop["basis"] = "history"
    hop["evidence"] = {k: seen[k] for k in ("count", "first", "last")}
    hop["evidence"]["days"] = _s(Decimal(seen["days"]))
    note = _evidence(seen)
    fees, deducted = Decimal(seen["fees"]), Decimal(seen["deductions"])
    if fees:
        walk.charge(hop, f"{NAMES[a]} -> {NAMES[b]} fees (median of your last "
                    f"{seen['count']})", "payment_fee", fees, note=note, basis="history")
    if deducted:
        walk.charge(hop, f"deducted on the way (median of your last {seen['count']})",
                    "bank_fee", deducted, note=note, basis="history")
    if converts:
        walk.convert(hop, "bank" if a in ("freelancer", "fiverr") else NAMES[a], None, None,
                     measured=seen)


def _bank(walk: _Walk, schedule: Schedule, date: dt.date, ctx: dict) -> None:
    """Tax withheld where the money lands (Pakistan's s.154A on export proceeds)."""
    country = ctx["country"]
    hop = walk.hop("bank", "deposit", None)
    inward = schedule.find("bank", "inward_fee", date, country=country)
    if inward is not None and inward.type == "percent" and (
            not inward.fixed or walk.currency in inward.fixed):
        walk.charge(hop, f"Bank inward charge {inward.describe()}", "bank_fee",
                    _fee(inward, walk), inward)
    booked = "home_remittance" if ctx["status"] == "home_remittance" else "it_export"
    rule = schedule.find("deductions", "export_wht", date, country=country, booked_as=booked)
    if rule is not None:
        status = None if ctx["status"] == "home_remittance" else ctx["status"]
        tax = _fee(rule, walk, status=status)
        rate = status_rate(rule, status) if rule.type == "by_status" else rule.rate
        walk.charge(hop, f"Tax withheld on export proceeds {pct(rate)} ({ctx['status']})",
                    "tax", tax, rule)
    if inward is None:
        walk.notes.append("no bank inward charge is known for "
                          f"{country or 'your country'}: set [[fees.bank.inward_fee]] in "
                          "ledger.toml, or compare what your bank credited with what was sent "
                          "(`ledger report` shows bank deductions)")


class _CachedRates:
    """One mid-rate lookup per pair, for the many quotes of a search."""

    def __init__(self, fx: MidRates | None) -> None:
        self.fx = fx
        self.seen: dict[tuple, tuple[Decimal, str]] = {}

    def mid(self, date: dt.date, source: str, target: str) -> tuple[Decimal, str]:
        key = (date, source, target)
        if key not in self.seen:
            if self.fx is None:
                raise DataError(f"no {source}->{target} rate for {date}",
                                hint="give the quote an FX source")
            self.seen[key] = self.fx.mid(date, source, target)
        return self.seen[key]


def compare(amount: Decimal, currency: str, routes: list[str | list[str]], to_currency: str,
            date: dt.date, fx: MidRates | None, **options: Any) -> dict:
    """Quotes for several routes, best (most arrives) first."""
    if not routes:
        raise UsageError("compare needs at least one route", hint=f"e.g. {EXAMPLES[1]}")
    rates = _CachedRates(fx)
    quotes = [quote(amount, currency, r, to_currency, date, rates, **options) for r in routes]
    quotes.sort(key=lambda q: Decimal(q["arrived"]), reverse=True)
    best = Decimal(quotes[0]["arrived"])
    return {"schema": "ledger.quote-compare/1", "best": ",".join(quotes[0]["route"]),
            "ranking": [{"route": ",".join(q["route"]), "arrived": q["arrived"],
                         "currency": q["arrived_currency"], "total_cost": q["total_cost"],
                         "effective_rate": q["effective_rate"],
                         "behind_best": _s(best - Decimal(q["arrived"])),
                         "unpriced": q["unpriced"], "basis": q["basis"], "days": q["days"]}
                        for q in quotes],
            "quotes": quotes}


def hourly_target(target_monthly_net: Decimal, hours: Decimal, currency: str,
                  route: str | list[str], to_currency: str, date: dt.date,
                  fx: MidRates | None, **options: Any) -> dict:
    """The gross hourly rate (in `currency`) that nets `target_monthly_net` (in
    `to_currency`) a month over `hours` billed hours, through `route`.

    Bisection on whole minor units of the monthly gross (what arrives never falls as the
    gross rises), then the hourly rate is rounded up to the minor unit and re-quoted to
    prove it reaches the target.
    """
    target = Decimal(target_monthly_net)
    hours = Decimal(hours)
    if target <= 0 or hours <= 0:
        raise UsageError("--target and --hours must be positive")
    rates = _CachedRates(fx)
    unit = quantum(currency.upper())

    def arrived(units: int) -> Decimal:
        q = quote(unit * units, currency, route, to_currency, date, rates, **options)
        return Decimal(q["arrived"])

    low, high = 0, 1
    while arrived(high) < target:
        low, high = high, high * 2
        if high > 10 ** 15:
            raise DataError(f"{target} {to_currency} a month cannot be reached through "
                            f"{route}", hint="check the route's fees in `ledger fees --rules`")
    while high - low > 1:
        middle = (low + high) // 2
        if arrived(middle) >= target:
            high = middle
        else:
            low = middle
    monthly = unit * high
    hourly = (monthly / hours).quantize(unit, rounding=ROUND_CEILING)
    billed = (hourly * hours).quantize(unit, rounding=ROUND_HALF_EVEN)
    proof = quote(billed, currency, route, to_currency, date, rates, **options)
    if Decimal(proof["arrived"]) < target:  # pragma: no cover - monotonicity guarantees it
        raise AssertionError("hourly rate re-quote fell short of the target")
    return {"schema": "ledger.quote-target/1", "target": _s(target),
            "to_currency": to_currency.upper(), "hours": _s(hours),
            "hourly_rate": _s(hourly), "currency": currency.upper(),
            "monthly_gross": _s(billed), "minimum_monthly_gross": _s(monthly),
            "quote": proof}
