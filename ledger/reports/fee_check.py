"""Fee check (`ledger fees`): what each earning was charged against what the fee schedule
expects, naming the rule and its source, plus the effective fee rate per platform and per
payment route against the field studies' "more than 10%".

Per earning (Upwork, Fiverr, Freelancer.com, PayPal and Payoneer receipts from clients):
- charged = the fee rows that cite it (`related_ref` = its ref on the same account; VAT/GST on
  the fee is shown apart), or the fee derived from a net amount (rules.fees.apply_rules);
- expected = the schedule's rule in effect on its date. Upwork's 2016-06-21..2023-05-02
  sliding fee is marginal on the client's lifetime billings before this earning: a cumulative
  sum per (account, client) over the whole ledger, in date then ref order (Upwork's ref ids
  rise over time), plus `prior_billings` from ledger.toml for work billed before the ledger;
- flag when |charged - expected| > tolerance. A per-contract rule (Upwork's variable fee) is
  flagged only when the charged rate is outside its bounds. Without a rule (PayPal with no
  country in ledger.toml) the earning is listed with status `no_rule`, not flagged.

Withdrawals from Upwork, Fiverr and Freelancer.com are checked too: the fee rows citing the
withdrawal (else the account's unlinked withdrawal fees that day) against the schedule's fee for
the method the description names (`Direct to Local Bank`, `PayPal`, `Payoneer`, `Wire`...).

Freelancer.com's project type comes from the fee row's category (`hourly_project_fee` ->
hourly, `preferred_freelancer_fee` -> recruiter, else fixed price). PayPal receipts are
`domestic` when in the country's own currency, else `international` (the payer's country is
not in the export).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger.core.providers import PLATFORMS
from ledger.core.providers import platform as source_platform
from ledger.core.user_rules import from_source

if TYPE_CHECKING:
    import polars as pl

    from rules.fees import Rule, Schedule

SCHEMA = "ledger.fees/1"

CHECKED: dict[str, str] = {"upwork": "service_fee", "fiverr": "service_fee",
                           "freelancer": "project_fee", "paypal": "receive_fee",
                           "payoneer": "receive_fee"}
"""Platform -> the kind of rule that says what it takes from an earning."""

TAX_ON_FEE = ("vat", "gst")
FREELANCER_TYPES = {"hourly_project_fee": "hourly", "preferred_freelancer_fee": "recruiter"}

BENCHMARK = {
    "rate": "0.10",
    "text": "platform plus payment-processor fees together tend to exceed 10% of transaction "
    "value (Lehdonvirta et al.; Graham, Hjorth & Lehdonvirta 2017)",
    "source": "https://pmc.ncbi.nlm.nih.gov/articles/PMC5518998",
}

COST_KINDS = {"platform_fees": "platform_fee", "payment_fees": "payment_fee", "fx_cost": "fx",
              "bank_deductions": "bank_fee", "taxes": "tax"}
ROUTE_COSTS = ("payment_fees", "fx_cost", "bank_deductions", "taxes")


def check_fees(rows: pl.DataFrame, schedule: Schedule, period: Any = None,
               tolerance: Decimal = Decimal("0.01"), *, country: str | None = None,
               fx: Any = None, currency: str = "USD", counted: pl.DataFrame | None = None
               ) -> dict:
    """The fee check for earnings dated in `period` (an object with .start/.end, a
    (start, end) pair, or None for all) as a JSON-ready dict (schema `ledger.fees/1`).

    `rows` is the whole ledger (lifetime billings need the history before the period).
    `fx` (an FxChain) values other currencies in `currency` for the summary; without it,
    rows in other currencies are left out of the summary and a warning says so. `counted`,
    the period's rows as `ledger report` counts them (counting.for_ledger: reconcile's
    matches applied, so a conversion only the bank's credit shows is an FX cost), makes the
    summary's figures the report's; without it the summary counts the fee rules alone. The
    checks themselves read the whole history through the same pipeline without reconcile
    (counting.count): an earning's fee and a withdrawal's fee do not depend on which credit
    a withdrawal arrived as.
    """
    import polars as pl

    from ledger.counting import pipeline as counting

    start, end = _bounds(period, rows)
    country = (country or schedule.country or "").upper() or None
    rows = counting.count(rows, schedule).with_columns(
        source_platform(pl.col("source")).alias("_platform"))
    checks = _checks(rows, schedule, country, tolerance)
    checks = checks.filter(pl.col("date").is_between(start, end))
    in_period = rows.filter(pl.col("date").is_between(start, end)) if counted is None else \
        counted.filter(pl.col("date").is_between(start, end)).with_columns(
            source_platform(pl.col("source")).alias("_platform"))
    withdrawals = _withdrawals(rows, schedule, tolerance).filter(
        pl.col("date").is_between(start, end))
    used = _rules_used(pl.concat([checks.select("_rule_id"), withdrawals.select("_rule_id")]),
                       schedule)
    summary, warnings = _summary(in_period, fx, currency)
    if country is None and checks.filter(pl.col("_platform") == "paypal").height:
        warnings.append("PayPal fees depend on your country: set `country` in ledger.toml "
                        "(e.g. country = \"PH\") to check them")
    return {
        "schema": SCHEMA,
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "tolerance": f"{tolerance}",
        "country": country,
        "checks": [_check_json(r) for r in checks.sort("date", "_platform", "ref")
                   .iter_rows(named=True)],
        "flagged": int(checks["flag"].sum()),
        "withdrawals": [_withdrawal_json(r) for r in withdrawals.sort("date", "_platform")
                        .iter_rows(named=True)],
        "withdrawals_flagged": int(withdrawals["flag"].sum()) if withdrawals.height else 0,
        **_coverage(pl.concat([checks.select("status"), withdrawals.select("status")])),
        "rules": used,
        "summary": summary,
        "warnings": warnings,
    }


CHECKED_STATUSES = ("ok", "overcharged", "undercharged", "no_fee_found",
                    "within_contract_bounds", "outside_contract_bounds")
"""Statuses of a fee compared with a published one; any other status was not checked."""

UNCHECKED = {
    "not_served": "the schedule says the service is not offered there",
    "no_rule": "no fee rule for them",
    "no_published_fee": "no published fee to compare with",
    "derived": "their fee was worked out from the schedule (the export shows only the net)",
    "unknown_method": "the description names no withdrawal method",
}
"""Why a fee was not checked, by status: what `ledger fees` says instead of "matches"."""


def _coverage(statuses: pl.DataFrame) -> dict:
    """How many fees were compared with a schedule (`checked`) and, by status, how many were
    not (`unchecked`): a verdict may only speak for the ones it checked."""
    counts = dict(statuses.group_by("status").len().iter_rows())
    return {"checked": sum(counts.get(s, 0) for s in CHECKED_STATUSES),
            "unchecked": {s: n for s, n in sorted(counts.items())
                          if s not in CHECKED_STATUSES}}


def verdict(data: dict) -> list[str]:
    """What the check found, in words, never claiming more than it checked: how many fees
    differ (or that the checked ones match), then what was not checked and why."""
    flagged = data["flagged"] + data.get("withdrawals_flagged", 0)
    checked, unchecked = data["checked"], data["unchecked"]
    if not data["checks"] and not data.get("withdrawals"):
        return ["no earnings or withdrawals to check in this period: nothing was compared"]
    if flagged:
        lines = [f"{flagged} of {checked} checked fee(s) differ from the schedule by more "
                 f"than {data['tolerance']}"]
    elif checked:
        lines = [f"the {checked} checked fee(s) match their schedule (within "
                 f"{data['tolerance']})"]
    else:
        lines = ["no fee could be checked against a schedule"]
    for status, n in unchecked.items():
        lines.append(f"{n} not checked ({status}): {UNCHECKED.get(status, status)}")
    return lines


def _bounds(period: Any, rows: pl.DataFrame) -> tuple[dt.date, dt.date]:
    if period is None:
        lo, hi = rows["date"].min(), rows["date"].max()
        today = dt.date.today()
        return (lo or today, hi or today)  # type: ignore[return-value]
    if isinstance(period, tuple):
        return period
    return period.start, period.end


def _checks(rows: pl.DataFrame, schedule: Schedule, country: str | None,
            tolerance: Decimal) -> pl.DataFrame:
    """One row per checked earning: charged, expected, rule, status, flag."""
    import polars as pl

    earnings = rows.filter((pl.col("kind") == "earning") & (pl.col("amount") > 0)
                           & pl.col("_platform").is_in(list(CHECKED)))
    earnings = earnings.join(_charged(rows), how="left", maintain_order="left",
                             on=["account", "ref"], nulls_equal=False)
    derived = _derived(rows)
    earnings = earnings.join(derived, on=["import_id", "line", "origin"], how="left",
                             maintain_order="left")
    earnings = earnings.with_columns(
        pl.coalesce("_derived_fee", "_charged").alias("charged"),
        pl.col("_derived_fee").is_not_null().alias("_is_derived"))
    frames = []
    for platform, kind in CHECKED.items():
        part = earnings.filter(pl.col("_platform") == platform)
        if part.is_empty():
            continue
        frames.append(_expected(part, platform, schedule.rules_for(platform, kind), schedule,
                                country))
    schema = {"expected": pl.Decimal(38, 4), "_rule_id": pl.String, "_lo": pl.Decimal(38, 4),
              "_hi": pl.Decimal(38, 4), "_unavailable": pl.Boolean}
    if not frames:
        return earnings.with_columns([pl.lit(None, dtype=t).alias(n) for n, t in schema.items()]
                                     ).pipe(_flag, tolerance)
    return pl.concat(frames, how="diagonal_relaxed").pipe(_flag, tolerance)


def _charged(rows: pl.DataFrame) -> pl.DataFrame:
    """Fees charged per (account, ref) they cite, from the source (not derived)."""
    import polars as pl

    fees = rows.filter(pl.col("kind").is_in(["platform_fee", "payment_fee"])
                       & pl.col("related_ref").is_not_null() & from_source(pl.col("origin")))
    tax = pl.col("category").is_in(TAX_ON_FEE).fill_null(False)
    return fees.group_by("account", pl.col("related_ref").alias("ref")).agg(
        (-pl.col("amount").filter(~tax).sum()).alias("_charged"),
        (-pl.col("amount").filter(tax).sum()).alias("tax_on_fee"),
        pl.col("category").filter(~tax).first().alias("_fee_category"),
        pl.len().alias("_fee_rows"))


def _derived(rows: pl.DataFrame) -> pl.DataFrame:
    """Fees derived from a net amount, keyed like the gross row they came with."""
    import polars as pl

    return rows.filter((pl.col("kind") == "platform_fee")
                       & pl.col("origin").str.starts_with("rule:")
                       & ~from_source(pl.col("origin"))).group_by(
        "import_id", "line", "origin").agg((-pl.col("amount").sum()).alias("_derived_fee"))


def _expected(part: pl.DataFrame, platform: str, rules: list[Rule], schedule: Schedule,
              country: str | None) -> pl.DataFrame:
    """Expected fee per earning of one platform: pick the rule per row, then compute it
    per (rule, currency) with vectorised expressions."""
    import polars as pl

    from rules.fees import LOCAL_CURRENCY, assign, fee_expr

    client = pl.coalesce(pl.col("counterparty"), pl.lit("ref:") + pl.col("ref").fill_null(""))
    prior_map = schedule.options.prior_billings
    part = part.sort("date", "ref", maintain_order=True).with_columns(client.alias("_client"))
    group = ["account", "_client"]
    # built from text: a Python Decimal handed to polars imports numpy
    prior_known = pl.col("_client").replace_strict(
        {k: format(v, "f") for k, v in prior_map.items()}, default="0",
        return_dtype=pl.String).cast(pl.Decimal(38, 4)) if prior_map else pl.lit("0").cast(
        pl.Decimal(38, 4))
    part = part.with_columns(
        (pl.col("amount").cum_sum().over(group) - pl.col("amount") + prior_known)
        .alias("_prior"),
        pl.col("date").min().over(group).alias("_first"))

    def billings_before(day: dt.date) -> pl.Expr:
        return (pl.col("amount").filter(pl.col("date") < day).sum().over(group)
                .fill_null(0) + prior_known).cast(pl.Decimal(38, 4))

    context: dict[str, pl.Expr] = {}
    if platform == "freelancer":
        context["project_type"] = pl.col("_fee_category").replace_strict(
            FREELANCER_TYPES, default="fixed_price", return_dtype=pl.String)
    if platform in ("paypal", "payoneer"):
        context["country"] = pl.lit(country, dtype=pl.String)
        local = LOCAL_CURRENCY.get(country or "", "")
        context["scope"] = pl.when(pl.col("currency") == local).then(pl.lit("domestic")
                                                                     ).otherwise(
            pl.lit("international"))
        context["payer"] = pl.lit("client")
    part = part.with_columns(assign(rules, context, billings_before).alias("_rule"))
    expected = pl.lit(None, dtype=pl.Decimal(38, 4))
    low = high = expected
    rule_id = pl.lit(None, dtype=pl.String)
    unavailable = pl.lit(False)
    currencies = part["currency"].unique().to_list()
    for index in part["_rule"].drop_nulls().unique().to_list():
        rule = rules[index]
        this = pl.col("_rule") == index
        rule_id = pl.when(this).then(pl.lit(rule.id)).otherwise(rule_id)
        if rule.type == "unavailable":
            unavailable = unavailable | this
        legacy = (pl.col("_first") < rule.start) if rule.start else None
        for cur in currencies:
            here = this & (pl.col("currency") == cur)
            expr = fee_expr(rule, pl.col("amount"), cur, prior=pl.col("_prior"), legacy=legacy,
                            status=schedule.options.tax_status)
            expected = pl.when(here).then(expr).otherwise(expected)
            if rule.type == "per_contract":
                lo = rule.min_rate if rule.min_rate is not None else Decimal(0)
                hi = rule.max_rate if rule.max_rate is not None else Decimal(1)
                low = pl.when(here).then(_rate_of(lo, cur)).otherwise(low)
                high = pl.when(here).then(_rate_of(hi, cur)).otherwise(high)
    return part.with_columns(expected.alias("expected"), rule_id.alias("_rule_id"),
                             low.alias("_lo"), high.alias("_hi"),
                             unavailable.fill_null(False).alias("_unavailable"))


def _rate_of(rate: Decimal, currency: str) -> pl.Expr:
    """amount x rate rounded to the currency (bounds of a per-contract fee)."""
    import polars as pl

    from ledger.core.money import decimal_lit, minor_units

    return (pl.col("amount").cast(pl.Decimal(38, 12))
            * decimal_lit(rate, pl.Decimal(38, 12))).round(minor_units(currency)).cast(
        pl.Decimal(38, 4))


def _flag(df: pl.DataFrame, tolerance: Decimal) -> pl.DataFrame:
    import polars as pl

    from ledger.core.money import decimal_lit

    tol = decimal_lit(tolerance, pl.Decimal(38, 4))
    charged = pl.col("charged").fill_null(decimal_lit(0, pl.Decimal(38, 4)))
    diff = charged - pl.col("expected")
    bounded = pl.col("_lo").is_not_null()
    outside = (charged < pl.col("_lo") - tol) | (charged > pl.col("_hi") + tol)
    off = diff.abs() > tol
    status = (pl.when(pl.col("_rule_id").is_null()).then(pl.lit("no_rule"))
              .when(pl.col("_unavailable").fill_null(False)).then(pl.lit("not_served"))
              .when(pl.col("expected").is_null()).then(pl.lit("no_published_fee"))
              .when(pl.col("_is_derived")).then(pl.lit("derived"))
              .when(bounded & outside).then(pl.lit("outside_contract_bounds"))
              .when(bounded).then(pl.lit("within_contract_bounds"))
              .when(pl.col("charged").is_null() & off).then(pl.lit("no_fee_found"))
              .when(off & (diff > 0)).then(pl.lit("overcharged"))
              .when(off).then(pl.lit("undercharged"))
              .otherwise(pl.lit("ok")))
    flag = (pl.when(pl.col("expected").is_null()).then(False)
            .when(bounded).then(outside).otherwise(off))
    return df.with_columns(charged.alias("charged"),
                           pl.when(pl.col("expected").is_not_null()).then(diff)
                           .alias("difference"),
                           status.alias("status"), flag.fill_null(False).alias("flag"))


WITHDRAWAL_METHODS: dict[str, list[tuple[str, str]]] = {
    "upwork": [(r"direct to local bank|local funds", "direct_to_local_bank"),
               (r"instant pay", "instant_pay_us"), (r"payoneer", "payoneer"),
               (r"paypal", "paypal"), (r"wire", "wire_usd"),
               (r"direct to u\.?s\.? bank|\bach\b", "ach_us")],
    "fiverr": [(r"paypal", "paypal"), (r"bank|payoneer", "bank_transfer_payoneer")],
    "freelancer": [(r"wire", "wire"), (r"express", "express"), (r"payoneer", "payoneer"),
                   (r"paypal", "paypal"), (r"skrill", "skrill")],
}
"""A platform's withdrawal description (lower case regex) -> the withdrawal_fee method."""


def _withdrawals(rows: pl.DataFrame, schedule: Schedule, tolerance: Decimal) -> pl.DataFrame:
    """Each platform withdrawal with the withdrawal fee charged (fee rows citing it, else the
    account's unlinked withdrawal fees of that day) against the schedule's fee for the method
    its description names (Upwork's Direct to Local Bank, Fiverr's PayPal...)."""
    import polars as pl

    from rules.fees import assign, fee_expr

    out = rows.filter((pl.col("kind") == "transfer") & (pl.col("amount") < 0)
                      & from_source(pl.col("origin"))
                      & pl.col("_platform").is_in(list(WITHDRAWAL_METHODS)))
    columns = {"date": pl.Date, "_platform": pl.String, "account": pl.String,
               "ref": pl.String, "description": pl.String, "currency": pl.String,
               "amount": pl.Decimal(38, 4), "line": pl.Int64, "_method": pl.String,
               "charged": pl.Decimal(38, 4), "expected": pl.Decimal(38, 4),
               "_rule_id": pl.String, "status": pl.String, "flag": pl.Boolean}
    if out.is_empty():
        return pl.DataFrame(schema=columns)
    fees = rows.filter((pl.col("kind") == "payment_fee")
                       & (pl.col("category") == "withdrawal_fee"))
    linked = fees.filter(pl.col("related_ref").is_not_null()).group_by(
        "account", pl.col("related_ref").alias("ref")).agg(
        (-pl.col("amount").sum()).alias("_linked"))
    same_day = fees.filter(pl.col("related_ref").is_null()).group_by("account", "date").agg(
        (-pl.col("amount").sum()).alias("_same_day"))
    out = (out.join(linked, on=["account", "ref"], how="left", maintain_order="left",
                    nulls_equal=False)
           .join(same_day, on=["account", "date"], how="left", maintain_order="left")
           .with_columns(pl.coalesce("_linked", "_same_day").alias("charged")))
    text = pl.col("description").str.to_lowercase()
    frames = []
    for platform, methods in WITHDRAWAL_METHODS.items():
        part = out.filter(pl.col("_platform") == platform)
        if part.is_empty():
            continue
        method = pl.lit(None, dtype=pl.String)
        for pattern, name in reversed(methods):
            method = pl.when(text.str.contains(pattern)).then(pl.lit(name)).otherwise(method)
        part = part.with_columns(method.alias("_method"))
        rules = schedule.rules_for(platform, "withdrawal_fee")
        part = part.with_columns(assign(rules, {"method": pl.col("_method")}).alias("_rule"))
        expected = pl.lit(None, dtype=pl.Decimal(38, 4))
        rule_id = pl.lit(None, dtype=pl.String)
        for index in part["_rule"].drop_nulls().unique().to_list():
            rule = rules[index]
            here = pl.col("_rule") == index
            rule_id = pl.when(here).then(pl.lit(rule.id)).otherwise(rule_id)
            for cur in part["currency"].unique().to_list():
                expr = fee_expr(rule, -pl.col("amount"), cur)
                expected = pl.when(here & (pl.col("currency") == cur)).then(expr).otherwise(
                    expected)
        frames.append(part.with_columns(expected.alias("expected"), rule_id.alias("_rule_id")))
    checked = pl.concat(frames, how="diagonal_relaxed")
    from ledger.core.money import decimal_lit

    tol = decimal_lit(tolerance, pl.Decimal(38, 4))
    charged = pl.col("charged").fill_null(decimal_lit(0, pl.Decimal(38, 4)))
    diff = charged - pl.col("expected")
    status = (pl.when(pl.col("_method").is_null()).then(pl.lit("unknown_method"))
              .when(pl.col("_rule_id").is_null()).then(pl.lit("no_rule"))
              .when(pl.col("expected").is_null()).then(pl.lit("no_published_fee"))
              .when(diff.abs() <= tol).then(pl.lit("ok"))
              .when(diff > 0).then(pl.lit("overcharged")).otherwise(pl.lit("undercharged")))
    flag = pl.col("expected").is_not_null() & (diff.abs() > tol)
    return checked.with_columns(charged.alias("charged"), status.alias("status"),
                                flag.fill_null(False).alias("flag")).select(list(columns))


def _withdrawal_json(row: dict) -> dict:
    from ledger.core.money import format_money

    cur = row["currency"]

    def money(value: Any) -> str | None:
        return None if value is None else format_money(Decimal(value), cur)

    return {"date": row["date"].isoformat(), "platform": row["_platform"],
            "account": row["account"], "ref": row["ref"], "description": row["description"],
            "method": row["_method"], "currency": cur, "amount": money(-row["amount"]),
            "charged": money(row["charged"]), "expected": money(row["expected"]),
            "rule": row["_rule_id"], "status": row["status"], "flag": bool(row["flag"]),
            "line": row["line"]}


def _check_json(row: dict) -> dict:
    from ledger.core.money import format_money

    cur = row["currency"]

    def money(value: Any) -> str | None:
        return None if value is None else format_money(Decimal(value), cur)

    amount = Decimal(row["amount"])
    charged = Decimal(row["charged"])
    return {
        "date": row["date"].isoformat(), "platform": row["_platform"],
        "account": row["account"], "ref": row["ref"], "client": row["counterparty"],
        "description": row["description"], "currency": cur, "gross": money(amount),
        "charged": money(charged), "tax_on_fee": money(row.get("tax_on_fee")),
        "expected": money(row["expected"]), "difference": money(row["difference"]),
        "rate_charged": f"{charged / amount:.4f}" if amount else None,
        "rule": row["_rule_id"], "status": row["status"], "flag": bool(row["flag"]),
        "import_id": row["import_id"], "line": row["line"],
    }


def _rules_used(checks: pl.DataFrame, schedule: Schedule) -> list[dict]:
    import polars as pl

    counts = checks.filter(pl.col("_rule_id").is_not_null()).group_by("_rule_id").len()
    out = []
    for rule_id, n in counts.sort("_rule_id").iter_rows():
        out.append({**schedule.get(rule_id).as_dict(), "earnings": n})
    return out


def _summary(rows: pl.DataFrame, fx: Any, currency: str) -> tuple[dict, list[str]]:
    """Effective fee rates: per platform (all costs booked there / gross), per payment route
    (a wallet's or bank's payment, FX, bank and tax costs / money received into it) and
    overall (every cost / gross), against the 10% benchmark."""
    import polars as pl

    from ledger.core.errors import DataError

    warnings: list[str] = []
    valued = None
    if fx is not None:
        try:
            valued = fx.convert(rows, currency).rows
        except DataError as exc:
            warnings.append(f"summary only counts {currency} rows: {exc.message}")
    if valued is None:
        # a conversion is only a cost when both legs are valued: without rates, leave it out
        left_out = rows.filter((pl.col("currency") != currency) | (pl.col("kind") == "fx"))
        if left_out.height:
            warnings.append(f"{left_out.height} row(s) in other currencies or converting "
                            f"currencies are left out of the summary (no rates to value them in "
                            f"{currency}): its FX cost is not counted")
        valued = rows.filter((pl.col("currency") == currency) & (pl.col("kind") != "fx")
                             ).with_columns(
            pl.col("amount").cast(pl.Decimal(38, 12)).alias("value"))
    kinds = {name: -pl.col("value").filter(pl.col("kind") == kind).sum()
             for name, kind in COST_KINDS.items()}
    gross = pl.col("value").filter(pl.col("kind").is_in(["earning", "refund"])).sum()
    received = pl.col("value").filter(pl.col("kind").is_in(["earning", "transfer"])
                                      & (pl.col("value") > 0)).sum()
    per = valued.group_by("_platform").agg(gross.alias("gross"), received.alias("received"),
                                           **kinds).sort("_platform")
    totals = valued.select(gross.alias("gross"), **kinds).row(0, named=True)

    def figures(row: dict, names: tuple[str, ...]) -> dict:
        return {n: _fmt(row[n], currency) for n in names}

    by_platform, by_route = [], []
    for row in per.iter_rows(named=True):
        costs = sum((Decimal(row[n] or 0) for n in COST_KINDS), Decimal(0))
        if row["gross"]:
            by_platform.append({"platform": row["_platform"], "gross": _fmt(row["gross"],
                                                                             currency),
                                **figures(row, tuple(COST_KINDS)),
                                "total_fees": _fmt(costs, currency),
                                "effective_rate": _ratio(costs, row["gross"])})
        route = sum((Decimal(row[n] or 0) for n in ROUTE_COSTS), Decimal(0))
        if route and row["_platform"] not in PLATFORMS:
            by_route.append({"route": row["_platform"],
                             "received": _fmt(row["received"], currency),
                             **figures(row, ROUTE_COSTS), "total_fees": _fmt(route, currency),
                             "effective_rate": _ratio(route, row["received"])})
    total = sum((Decimal(totals[n] or 0) for n in COST_KINDS), Decimal(0))
    rate = _ratio(total, totals["gross"])
    overall = {"gross": _fmt(totals["gross"], currency), **figures(totals, tuple(COST_KINDS)),
               "total_fees": _fmt(total, currency), "effective_rate": rate,
               "above_benchmark": None if rate is None else Decimal(rate) > Decimal(
                   BENCHMARK["rate"])}
    return ({"currency": currency, "overall": overall, "by_platform": by_platform,
             "by_route": by_route, "benchmark": BENCHMARK}, warnings)


def _fmt(value: Any, currency: str) -> str:
    from ledger.core.money import format_money

    return format_money(Decimal(value or 0), currency)


def _ratio(part: Any, whole: Any) -> str | None:
    whole = Decimal(whole or 0)
    return f"{Decimal(part or 0) / whole:.4f}" if whole else None
