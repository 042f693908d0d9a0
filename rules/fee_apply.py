"""The fee rules applied to rows: `apply_rules` turns stored rows into the rows the report
counts, each step a rule the schedule can turn off. Net-of-fee earnings become gross + fee here
(`derive_fees`); what the rows themselves show about transfers and conversions is derived in
rules/fee_transfers.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from ledger.core import providers
from ledger.core.errors import DataError
from ledger.core.user_rules import from_source
from rules.fee_math import WORK, assign, work_lit
from rules.fee_schedule import pct
from rules.fee_transfers import (
    MATCH_DAYS,
    Found,
    arrival_rows,
    conversion_rows,
    included_fee_rows,
    intermediary_rows,
    replace_plan,
    replace_rows,
    working,
)

if TYPE_CHECKING:
    import polars as pl

    from rules.fee_schedule import Schedule

NET_OF_FEE = "net_of_fee"
"""Category an importer gives an earning shown after the platform's fee (Fiverr)."""
GROSS_CATEGORY = "gross"


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

    import polars as pl

    return sorted(rows.lazy().filter(needs_derivation()).select(pl.col("account").unique())
                  .collect(engine="in-memory")["account"].to_list())


def derive_fees(rows: pl.DataFrame, schedule: Schedule,
                accounts: list[str] | None = None) -> pl.DataFrame:
    """For each `net_of_fee` earning in `rows` (and each refund on `accounts`, whose
    earnings are net: the refund becomes the order value returned and the fee given back),
    two canonical rows that replace it:

    - the gross earning, `net / (1 - rate)` rounded to the currency's minor unit, category
      `gross`, same ref, counterparty, contract, hours, date, line and import id;
    - the platform's fee, `net - gross` (negative), kind `platform_fee`, category the rule's
      kind (`service_fee`), related_ref the earning's ref (its new id when it has none).
    Both have origin `rule:<rule id>` and ids sha256(original id + `:gross`/`:fee`)
    (rules.worker_ids.derived_id), so they are stable and re-deriving gives the same rows.
    Gross + fee is exactly the net shown.
    Only pure-rate rules can be inverted; anything else is a DataError naming the row.
    """
    import polars as pl

    from ledger.core import schema
    from ledger.core.money import minor_units

    found = rows.lazy().filter(needs_derivation(accounts)).with_columns(
        providers.platform(pl.col("source")).alias("_platform")).collect(engine="in-memory")
    if found.is_empty():
        return schema.empty()
    platforms = sorted(found["_platform"].unique().to_list())
    rules = {p: schedule.rules_for(p, "service_fee") for p in platforms}
    # each platform's rule index, one chain over the platforms (not a query per platform)
    chosen = pl.lit(None, dtype=pl.Int32)
    for platform in platforms:
        chosen = pl.when(pl.col("_platform") == platform).then(assign(rules[platform])
                                                                ).otherwise(chosen)
    found = found.with_columns(chosen.alias("_rule"))
    missing = found["_rule"].is_null()
    table: dict[str, list] = {"_platform": [], "_rule": [], "_rate": [], "_rule_id": [],
                              "_label": []}
    for platform in platforms:
        here = found["_platform"] == platform
        if (here & missing).any():
            row = found.filter(here & missing).row(0, named=True)
            raise DataError(
                f"no {platform} service fee rule for {row['date']} to derive the gross of a "
                f"net amount (row {row['id']}, import {row['import_id'][:12]}, line "
                f"{row['line']})",
                hint=f"add one to ledger.toml: [[fees.{platform}.service_fee]] id = \"...\" "
                f'from = {row["date"]} rate = "0.20" source = "..."')
        for index in sorted(found["_rule"].filter(here & ~missing).unique().to_list()):
            rule = rules[platform][index]
            rate = rule.default_rate if rule.type == "per_contract" else rule.rate
            if rule.type not in ("percent", "per_contract") or rate is None or rule.fixed \
                    or rule.minimum is not None or rule.maximum is not None \
                    or rule.free_from is not None or rule.tax_on_fee:
                raise DataError(f"cannot derive a gross amount from rule {rule.id} "
                                f"({rule.describe()}): only a plain rate can be inverted",
                                hint=f"give {platform} a plain-rate service_fee rule in "
                                "ledger.toml")
            for name, value in (("_platform", platform), ("_rule", index),
                                ("_rate", format(rate, "f")), ("_rule_id", rule.id),
                                ("_label", pct(rate))):
                table[name].append(value)
    # the rates as text, cast: a Python Decimal handed to polars imports numpy
    rates = pl.LazyFrame(table, schema={"_platform": pl.String, "_rule": pl.Int32,
                                        "_rate": pl.String, "_rule_id": pl.String,
                                        "_label": pl.String}).with_columns(
        pl.col("_rate").cast(pl.Decimal(38, WORK)))
    # the platforms in sorted order, each in its rows' order, as the rows were derived
    net = found.lazy().sort("_platform", maintain_order=True).join(
        rates, on=["_platform", "_rule"], how="left", maintain_order="left")
    gross_exact = pl.col("amount").cast(pl.Decimal(38, WORK)) / (work_lit(1) - pl.col("_rate"))
    gross = pl.lit(None, dtype=pl.Decimal(38, WORK))
    for currency in found["currency"].unique().to_list():
        gross = pl.when(pl.col("currency") == currency).then(
            gross_exact.round(minor_units(currency))).otherwise(gross)
    net = net.with_columns(gross.cast(pl.Decimal(38, 4)).alias("_gross"),
                           (pl.lit("rule:") + pl.col("_rule_id")).alias("origin"))
    from rules.worker_ids import derived_id

    gross_id, fee_id = derived_id("gross"), derived_id("fee")
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
    return schema.conform(pl.concat([gross_rows, fee_rows], how="diagonal_relaxed")).collect(
        engine="in-memory")


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
    return _apply(rows, schedule, window, matched, None, clip=False)


def counted_rows(rows: pl.DataFrame, schedule: Schedule,
                 window: tuple[dt.date, dt.date] | None = None,
                 matched: pl.DataFrame | None = None,
                 arrived: pl.DataFrame | None = None) -> pl.DataFrame:
    """`apply_rules`, then `arrived_conversions` of `arrived` (reconcile.arrivals; None:
    none), then only the rows in `window`: what ledger.counting counts, in one pass (the
    rows sorted once, not after the rules and again after the arrivals)."""
    return _apply(rows, schedule, window, matched, arrived, clip=True)


def _apply(rows: pl.DataFrame, schedule: Schedule, window: tuple[dt.date, dt.date] | None,
           matched: pl.DataFrame | None, arrived: pl.DataFrame | None, *, clip: bool
           ) -> pl.DataFrame:
    """The rules of `apply_rules` (and `arrived_conversions` with `arrived`), as if each
    replaced its rows in the whole frame, the frame sorted by date once at the end. Only
    the rows a rule after `derive_fees` reads or replaces (`working`: transfers, conversion
    legs, amounts with a fee inside) go through the rules one by one, 4,830 of five years'
    20,404 rows, 27 of the demo's 77; the rest are kept as they are, and the whole frame is
    assembled in one collect: the kept rows in their order, then what each rule derived in
    the rules' order (what is left of it), stably sorted by date, as a sort after each rule
    would give (tests/test_fee_plan.py compares it with the rules applied one by one)."""
    import polars as pl

    # no net_of_fee row at all (a Series count, no plan): no account is net, nothing to derive
    net = rows.get_column("category").eq(NET_OF_FEE).any()
    if window is not None:
        accounts = net_accounts(rows) if net else []
        start, end = window
        margin = dt.timedelta(days=MATCH_DAYS)
        low, high = start - margin, end + margin
        dates = rows.get_column("date")
        if not rows.is_empty() and (dates.min() < low or dates.max() > high):  # type: ignore[operator]
            rows = rows.filter(pl.col("date").is_between(low, high))
    else:
        accounts = net_accounts(rows) if net and not rows.is_empty() else []
    if rows.is_empty():
        return rows
    # which rows the rules read and replace, by position (no join of the whole frame on ids)
    flags = rows.select(working().alias("w"),
                        needs_derivation(accounts).fill_null(False).alias("m"))
    net_rows = flags.get_column("m")
    derived = derive_fees(rows.filter(net_rows), schedule, accounts) if net_rows.any() else None
    passed = flags.get_column("w") & ~net_rows
    given = rows.filter(passed)
    current, last, replaced = given, None, []
    for found in _rules(schedule, matched, arrived):
        if last is not None:  # this rule reads the rows the one before it derived
            current, last = replace_rows(current, *last, sort=False), None
        last = found(current)
        if last is not None:
            replaced.append(last[0].get_column("id"))
    in_window = pl.col("date").is_between(*window) if clip and window is not None else None
    if derived is None and not replaced:  # no rule derived a row: the rows as given
        return rows if in_window is None else rows.filter(in_window)
    ids = given.get_column("id")
    keep = ~net_rows
    if replaced:
        # the last rule's rows are replaced in the final plan, not in a frame of their own
        new = (current.lazy() if last is None else replace_plan(current, *last)).filter(
            ~pl.col("id").is_in(ids.implode()))
        gone = ids.is_in(pl.concat(replaced).implode())
        if gone.any():
            keep = keep.scatter(passed.arg_true().filter(gone), False)
    kept = rows.lazy() if keep.all() else rows.lazy().filter(keep)
    added = [] if derived is None else [derived.lazy()]
    both = pl.concat([kept, *added, *([new] if replaced else [])])
    if in_window is not None:
        both = both.filter(in_window)
    # one stable sort of all (a merge of the sorted kept rows with what was derived costs more)
    return both.sort("date", maintain_order=True).collect(engine="in-memory")


def _rules(schedule: Schedule, matched: pl.DataFrame | None, arrived: pl.DataFrame | None
           ) -> list[Callable[[pl.DataFrame], Found | None]]:
    """The rules after `derive_fees`, in their order, each what it replaces and derives."""
    rules: list[Callable[[pl.DataFrame], Found | None]] = [
        lambda rows: included_fee_rows(rows, schedule),
        lambda rows: conversion_rows(rows, schedule),
        lambda rows: intermediary_rows(rows, schedule, matched)]
    if arrived is not None:
        rules.append(lambda rows: arrival_rows(rows, arrived, schedule))
    return rules
