"""The fee a rule expects for an amount: one amount (`expected_fee`, what rules/quote.py walks
hop by hop) or a column of them (`fee_expr`, what ledger/reports/fee_check.py compares with what was
charged), and `assign`, the vectorised lookup of each row's rule. Exact decimals throughout:
rate x amount at scale `WORK`, then the one half-even rounding the providers apply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from ledger.core.errors import DataError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from rules.fee_schedule import Rule, Tier

WORK = 12
"""Decimal scale of intermediate figures: rate x amount is exact before the one rounding."""


def quantum(currency: str) -> Decimal:
    from ledger.core.money import minor_units

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


def work_lit(value: Decimal | int) -> pl.Expr:
    """`value` as a Decimal literal at the WORK scale."""
    import polars as pl

    from ledger.core.money import decimal_lit

    return decimal_lit(value, pl.Decimal(38, WORK))


def fee_expr(rule: Rule, amount: pl.Expr, currency: str, *, prior: pl.Expr | None = None,
             legacy: pl.Expr | None = None, status: str | None = None) -> pl.Expr:
    """Vectorised `expected_fee` for rows of one currency: Decimal(38, 4), null where the rule
    cannot say (no fixed amount in that currency, no published rate).

    Works at scale 12 so rate x amount is exact before the single half-even rounding.
    """
    import polars as pl

    from ledger.core.money import minor_units

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
        fee = x * work_lit(rule.default_rate or 0)
    elif rule.type == "by_status":
        fee = x * work_lit(status_rate(rule, status))
    else:
        if rule.fixed and currency not in rule.fixed:
            return null.cast(pl.Decimal(38, 4))
        fee = x * work_lit(rule.rate or 0) + work_lit(rule.fixed_for(currency))
        if rule.free_from is not None:
            fee = pl.when(x >= work_lit(rule.free_from)).then(work_lit(0)).otherwise(fee)
        if rule.minimum is not None:
            fee = pl.max_horizontal(fee, work_lit(rule.minimum))
        if rule.maximum is not None:
            fee = pl.min_horizontal(fee, work_lit(rule.maximum))
    digits = minor_units(currency)
    if rule.round:
        fee = fee.round(digits)
    if rule.tax_on_fee:
        tax = fee * work_lit(rule.tax_on_fee)
        fee = fee + (tax.round(digits) if rule.round else tax)
    return fee.cast(pl.Decimal(38, 4))


def _marginal_expr(prior: pl.Expr, amount: pl.Expr, tiers: tuple[Tier, ...]) -> pl.Expr:
    import polars as pl

    fee = work_lit(0)
    lower = Decimal(0)
    for tier in tiers:
        end = prior + amount
        top = end if tier.upto is None else pl.min_horizontal(end, work_lit(tier.upto))
        slice_ = (top - pl.max_horizontal(prior, work_lit(lower))).clip(lower_bound=work_lit(0))
        fee = fee + slice_ * work_lit(tier.rate)
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
                hit = hit & (billings_before(rule.start) > work_lit(rule.prior_over))
        chosen = pl.when(hit).then(pl.lit(index, dtype=pl.Int32)).otherwise(chosen)
    return chosen

