"""What the rows themselves show, measured by rules of type `measured`: fees inside amounts
(`split_included_fees`), transfers that delivered another currency and conversion legs whose
other leg no file holds (`split_conversions`, `arrived_conversions`), and deductions taken on
the way between two of the user's accounts (`match_intermediary`, on the pairs of the one
transfer matcher, rules/transfers.py). Derived rows have stable ids sha256(id + suffix)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.core import providers, schema
from ledger.core.money import decimal_lit
from ledger.core.user_rules import from_source
from rules.fee_math import WORK, assign, work_lit
from rules.worker_ids import derived_id

if TYPE_CHECKING:
    import polars as pl

    from rules.fee_schedule import Schedule

MATCH_DAYS = 7
"""A transfer credited more than this many days after it was sent is not matched."""
INCLUDED_FEE_RULE = ("transfers", "included_fee")
CONVERSION_RULE = ("transfers", "conversion")
INTERMEDIARY_RULE = ("deductions", "intermediary")
ARRIVAL_RULE = ("transfers", "arrival")
Found = tuple["pl.DataFrame", list["pl.LazyFrame"]]
"""What a rule replaces (the rows, of which `id` is read) and the plans of the rows it
derives."""


def working() -> pl.Expr:
    """The rows a rule here reads or replaces: transfers and conversion legs (conversions,
    intermediary deductions, arrivals, the matcher's legs) and amounts with a fee inside.
    rules.fee_apply passes only these through the rules (the rest are kept as they are)."""
    import polars as pl

    return pl.col("kind").is_in(["transfer", "fx"]) | pl.col("fee_included").is_not_null()


def _rule_id(schedule: Schedule, provider: str, kind: str) -> pl.Expr | None:
    """`_rule_id`: the id of the rule in effect on each row's date (null where none); None
    when the schedule has no such rule (nothing to derive)."""
    import polars as pl

    rules = schedule.rules_for(provider, kind)
    if not rules:
        return None
    ids = {i: r.id for i, r in enumerate(rules)}
    return assign(rules).replace_strict(ids, default=None, return_dtype=pl.String
                                        ).alias("_rule_id")


def _as_conversion(transfers: pl.DataFrame, origin: pl.Expr) -> list[pl.LazyFrame]:
    """A transfer out that arrived as `_other` in `_other_cur`, as the three rows that replace
    it: an `fx` leg out (what left), an `fx` leg in (what arrived) and the transfer of what
    arrived, so the receiving account's credit is the same money. Plans."""
    import polars as pl

    key = pl.coalesce("ref", "id")
    common = {"origin": origin, "hours": pl.lit(None, dtype=pl.Float64)}
    transfers_ = transfers.lazy()
    return [
        transfers_.with_columns(id=derived_id("fx-out"), kind=pl.lit("fx"),
                                category=pl.lit("conversion"), related_ref=key,
                                ref=pl.lit(None, dtype=pl.String), **common),
        transfers_.with_columns(id=derived_id("fx-in"), kind=pl.lit("fx"),
                                category=pl.lit("conversion"), related_ref=key,
                                ref=pl.lit(None, dtype=pl.String), amount=pl.col("_other"),
                                currency=pl.col("_other_cur"), **common),
        transfers_.with_columns(id=derived_id("moved"), amount=-pl.col("_other"),
                                currency=pl.col("_other_cur"), **common)]


def arrived_conversions(rows: pl.DataFrame, arrivals: pl.DataFrame, schedule: Schedule
                        ) -> pl.DataFrame:
    """Withdrawals that only the receiving statement shows arrived in another currency
    (`ledger reconcile` matched them: Upwork's Direct to Local Bank in USD credited in PKR)
    become conversions like a `[delivered ...]` tag makes them, so their FX spread is in the
    report's FX cost. `arrivals`: id (the withdrawal), _other (what was credited, before the
    bank's own charge rows), _other_cur. Rule `transfers.arrival`; a no-op without it."""

    found = arrival_rows(rows, arrivals, schedule)
    return rows if found is None else replace_rows(rows, *found)


def arrival_rows(rows: pl.DataFrame, arrivals: pl.DataFrame, schedule: Schedule
                 ) -> Found | None:
    """What `arrived_conversions` replaces and derives (None: nothing)."""
    import polars as pl

    rule = _rule_id(schedule, *ARRIVAL_RULE)
    if arrivals.is_empty() or rule is None:
        return None
    transfers = rows.lazy().filter(pl.col("kind") == "transfer").join(
        arrivals.lazy(), on="id", how="inner").with_columns(rule).filter(
        pl.col("_rule_id").is_not_null() & (pl.col("_other_cur") != pl.col("currency"))
    ).collect(engine="in-memory")
    if transfers.is_empty():
        return None
    return transfers, _as_conversion(transfers, pl.lit("rule:") + pl.col("_rule_id"))


def _none(rows: pl.DataFrame, column: str) -> bool:
    """Whether `column` is null on every row: a rule that reads it has nothing to do (a
    Series count, no plan to build)."""
    return rows.get_column(column).null_count() == rows.height


def replace_rows(rows: pl.DataFrame, replaced: pl.DataFrame,
                 derived: list[pl.LazyFrame] | list[pl.DataFrame], *, sort: bool = True
                 ) -> pl.DataFrame:
    """`rows` without the `replaced` ids, plus the `derived` rows, stably sorted by date (one
    collect). `sort=False`: appended, for a caller that sorts once after several rules
    (rules.fee_apply.apply_rules: each rule reads rows of one day together or row by row,
    so what it derives is the same in either order, and one stable sort at the end gives
    the order a sort after each would)."""
    if not derived:
        return rows
    both = replace_plan(rows, replaced, derived)
    return (both.sort("date", maintain_order=True) if sort else both).collect(
        engine="in-memory")


def replace_plan(rows: pl.DataFrame, replaced: pl.DataFrame,
                 derived: list[pl.LazyFrame] | list[pl.DataFrame]) -> pl.LazyFrame:
    """`replace_rows` unsorted, as a plan (the last rule's, collected with the frame)."""
    import polars as pl

    # a filter keeps the rows' order without an order-keeping join (ids are never null)
    kept = rows.lazy() if replaced.is_empty() else rows.lazy().filter(
        ~pl.col("id").is_in(replaced.get_column("id").implode()))
    if not derived:
        return kept
    new = schema.conform(pl.concat([d.lazy() for d in derived], how="diagonal_relaxed"))
    return pl.concat([kept, new])


def split_included_fees(rows: pl.DataFrame, schedule: Schedule, *, sort: bool = True
                        ) -> pl.DataFrame:
    """A row whose amount includes a fee the export names (`[fee 6.00 USD included]`, Wise
    statements made without "fees shown separately") becomes two rows: the movement without
    the fee (amount + fee: -1000 sent incl. 6 -> -994; 800 credited after 2 -> 802) and the
    fee (-6, kind payment_fee, category included_fee). Same currency only; origin
    `rule:transfers.included_fee...`; ids sha256(id + `:net`/`:fee`)."""
    found = included_fee_rows(rows, schedule)
    return rows if found is None else replace_rows(rows, *found, sort=sort)


def included_fee_rows(rows: pl.DataFrame, schedule: Schedule) -> Found | None:
    """What `split_included_fees` replaces and derives (None: nothing)."""
    import polars as pl

    rule = _rule_id(schedule, *INCLUDED_FEE_RULE)
    if rule is None or _none(rows, "fee_included"):
        return None
    candidates = rows.lazy().filter(
        from_source(pl.col("origin"))
        & ~pl.col("kind").is_in(["platform_fee", "payment_fee", "bank_fee", "tax"])
        & pl.col("fee_included").is_not_null()).with_columns(
        pl.col("fee_included").alias("_fee"), pl.col("currency").alias("_fee_currency"),
        rule).filter(
        pl.col("_rule_id").is_not_null() & (pl.col("_fee_currency") == pl.col("currency"))
        & (pl.col("_fee") > 0)).collect(engine="in-memory")
    if candidates.is_empty():
        return None
    origin = pl.lit("rule:") + pl.col("_rule_id")
    platform = providers.platform(pl.col("source")).str.to_titlecase()
    main = candidates.lazy().with_columns(id=derived_id("net"), amount=pl.col("amount")
                                          + pl.col("_fee"), origin=origin)
    fee = candidates.lazy().with_columns(
        id=derived_id("fee"), kind=pl.lit("payment_fee"), category=pl.lit("included_fee"),
        amount=-pl.col("_fee"), hours=pl.lit(None, dtype=pl.Float64),
        ref=pl.lit(None, dtype=pl.String), related_ref=pl.coalesce("ref", derived_id("net")),
        description=platform + pl.lit(" fee inside the amount of: ") + pl.col("description")
        + pl.lit(" (split by rule ") + pl.col("_rule_id") + pl.lit(")"), origin=origin)
    return candidates, [main, fee]


def _lone_legs(legs: pl.DataFrame) -> pl.DataFrame:
    """`_lone_plan` collected."""
    return _lone_plan(legs.lazy()).collect(engine="in-memory")


def _lone_plan(legs: pl.LazyFrame) -> pl.LazyFrame:
    """Conversion legs (with a ref or related_ref to pair by) that no other leg pairs with
    (rules.conversions.conversion_pairs): their other leg is in no imported file. A plan."""
    import polars as pl

    from rules.conversions import conversion_pairs_plan

    legs = legs.with_row_index("_row")
    pairs = conversion_pairs_plan(legs, key="_row")
    paired = pl.concat([pairs.select(pl.col("out").alias("_row")),
                        pairs.select(pl.col("in").alias("_row"))])
    return legs.join(paired, on="_row", how="anti", maintain_order="left").filter(
        pl.col("related_ref").is_not_null() | pl.col("ref").is_not_null()).drop("_row")


def split_conversions(rows: pl.DataFrame, schedule: Schedule, *, sort: bool = True
                      ) -> pl.DataFrame:
    """Money that left in one currency and arrived in another is a conversion, whose FX cost
    (the value at the reference mid rate minus what arrived) the report counts:

    - a transfer out that delivered another currency (`[delivered 278500.00 PKR]` on a
      Payoneer or Wise withdrawal of USD) becomes an `fx` leg out (-1000 USD), an `fx` leg
      in (+278500 PKR) and the transfer of what was delivered (-278500 PKR), so a bank
      statement's credit of 278500 PKR is the same money arriving;
    - a conversion leg whose other leg is in no imported file (the Wise statement of the
      other currency) gets that leg from its `[delivered ...]` / `[sent ...]` tag.
    Derived rows have origin `rule:transfers.conversion...`, ids sha256(id + suffix).
    Both kinds are found in one collect, and replaced in one more.
    """
    found = conversion_rows(rows, schedule)
    return rows if found is None else replace_rows(rows, *found, sort=sort)


def conversion_rows(rows: pl.DataFrame, schedule: Schedule) -> Found | None:
    """What `split_conversions` replaces and derives (None: nothing)."""
    import polars as pl

    rule = _rule_id(schedule, *CONVERSION_RULE)
    if rule is None or _none(rows, "counter_currency"):  # neither kind could be derived
        return None
    has_tag = pl.col("counter_currency").is_not_null()
    transfers = rows.lazy().filter(
        (pl.col("kind") == "transfer") & (pl.col("amount") < 0) & has_tag).with_columns(
        pl.col("counter_amount").alias("_other"),
        pl.col("counter_currency").alias("_other_cur"), rule).filter(
        pl.col("_rule_id").is_not_null() & (pl.col("_other_cur") != pl.col("currency"))
        & (pl.col("_other") > 0))
    other = pl.when(pl.col("amount") < 0).then(pl.col("counter_amount")).otherwise(
        -pl.col("counter_amount"))
    plans = [transfers]
    # a lone leg is derived only from its tag: no tagged leg, no pairs to find (a Series test)
    if (rows.get_column("kind").eq("fx") & rows.get_column("counter_currency").is_not_null()
            ).any():
        plans.append(_lone_plan(rows.lazy().filter(pl.col("kind") == "fx")).filter(
            ((pl.col("amount") < 0) & has_tag)
            | ((pl.col("amount") > 0) & has_tag)).with_columns(
            other.alias("_other"), pl.col("counter_currency").alias("_other_cur"), rule
        ).filter(pl.col("_rule_id").is_not_null()
                 & (pl.col("_other_cur") != pl.col("currency"))
                 & pl.col("_other").is_not_null() & (pl.col("_other") != 0)))
    transfers, *found = pl.collect_all(plans, engine="in-memory")
    lone = found[0] if found else transfers.clear()
    if transfers.is_empty() and lone.is_empty():
        return None
    origin = pl.lit("rule:") + pl.col("_rule_id")
    derived: list[pl.LazyFrame] = []
    if transfers.height:
        derived += _as_conversion(transfers, origin)
    if lone.height:
        derived.append(lone.lazy().with_columns(
            id=derived_id("other-leg"), amount=pl.col("_other"),
            currency=pl.col("_other_cur"), ref=pl.lit(None, dtype=pl.String),
            related_ref=pl.coalesce("related_ref", "ref"),
            origin=origin, hours=pl.lit(None, dtype=pl.Float64),
            description=pl.col("description") + pl.lit(" (other leg, from the tag)")))
    return transfers, derived


def match_intermediary(rows: pl.DataFrame, schedule: Schedule,
                       matched: pl.DataFrame | None = None, *, sort: bool = True
                       ) -> pl.DataFrame:
    """Intermediary (correspondent) deductions, measured: a transfer out of one account and
    the transfer into another that the transfer matcher (rules/transfers.py) paired, in the
    same currency within `MATCH_DAYS` days, where less arrived than was sent (at most the
    rule's `max` in its currency or `max_rate` of the amount) and the receiving row names the
    sender (`Inward Remittance PAYONEER INC`). The credit becomes the amount sent (a
    transfer) plus the deduction (kind bank_fee, category intermediary_deduction), origin
    `rule:deductions.intermediary...`. Equal amounts need no row.

    `matched` (out_id, in_id): the pairs `ledger reconcile` linked with the ledger's own
    settings and links (the report passes them); without it, the matcher's pairs at its
    default settings. Either way the report, reconcile and this rule agree on which credit
    was which withdrawal, and what the matcher leaves ambiguous gets no deduction (never
    guessed)."""
    found = intermediary_rows(rows, schedule, matched)
    return rows if found is None else replace_rows(rows, *found, sort=sort)


def intermediary_rows(rows: pl.DataFrame, schedule: Schedule,
                      matched: pl.DataFrame | None = None) -> Found | None:
    """What `match_intermediary` replaces and derives (None: nothing)."""
    import polars as pl

    rules = schedule.rules_for(*INTERMEDIARY_RULE)
    rule = _rule_id(schedule, *INTERMEDIARY_RULE)
    if rule is None or not rows.get_column("kind").eq("transfer").any():
        return None
    if matched is not None and matched.is_empty():  # no pair to measure
        return None
    transfers = rows.lazy().filter(pl.col("kind") == "transfer")
    ins = transfers.filter(pl.col("amount") > 0)
    outs = transfers.filter(pl.col("amount") < 0).with_columns(rule).filter(
        pl.col("_rule_id").is_not_null()).select(
        pl.col("id").alias("_out_id"), pl.col("account").alias("_out_account"),
        pl.col("date").alias("_out_date"), pl.col("currency").alias("_out_currency"),
        (-pl.col("amount")).alias("_sent"), pl.col("ref").alias("_out_ref"),
        providers.platform(pl.col("source")).replace_strict(
            providers.ALIASES, default=None, return_dtype=pl.String).alias("_name"),
        "_rule_id")
    if matched is None:
        # the matcher's own pairs, run only when there are credits and tagged withdrawals:
        # a ledger with no credits (an Upwork export's withdrawals only) has nothing to
        # measure; with reconcile's pairs all is one plan (what they pair is all it reads)
        ins, outs = pl.collect_all([ins, outs], engine="in-memory")
        if ins.is_empty() or outs.is_empty():
            return None
        from rules.transfers import Settings, match

        matched = match(rows, Settings()).hops
    pairs = matched.lazy().select(pl.col("out_id").alias("_out_id"),
                                  pl.col("in_id").alias("id")).join(outs.lazy(), on="_out_id").join(
        ins.lazy(), on="id").with_columns(
        (pl.col("date") - pl.col("_out_date")).dt.total_days().alias("_lag")).filter(
        (pl.col("currency") == pl.col("_out_currency"))
        & (pl.col("account") != pl.col("_out_account"))
        & pl.col("_lag").is_between(0, MATCH_DAYS)).drop("_out_currency")
    bound = pl.lit(None, dtype=pl.Decimal(38, 4))
    for rule in rules:
        cap = decimal_lit(0, pl.Decimal(38, 4))
        if rule.max_rate is not None:
            cap = (pl.col("_sent").cast(pl.Decimal(38, WORK)) * work_lit(rule.max_rate)).cast(
                pl.Decimal(38, 4))
        if rule.maximum is not None:
            fixed = pl.when(pl.col("currency") == rule.currency).then(
                decimal_lit(rule.maximum, pl.Decimal(38, 4))).otherwise(
                decimal_lit(0, pl.Decimal(38, 4)))
            cap = pl.max_horizontal(cap, fixed)
        bound = pl.when(pl.col("_rule_id") == rule.id).then(cap).otherwise(bound)
    text = (pl.col("counterparty").fill_null("") + " " + pl.col("description")).str.to_lowercase()
    named = pl.when(pl.col("_name").is_null()).then(False).otherwise(
        text.str.contains(pl.col("_name")))
    pairs = pairs.with_columns((pl.col("_sent") - pl.col("amount")).alias("_diff")).filter(
        (pl.col("_diff") == 0) | ((pl.col("_diff") > 0) & (pl.col("_diff") <= bound) & named))
    # a withdrawal that arrived in parts (split_credit) keeps the one part that fits; one plan
    best_out = pairs.sort("_diff", "_lag", "id").group_by("_out_id", maintain_order=True).first()
    best = best_out.sort("_diff", "_lag", "_out_id").group_by("id", maintain_order=True).first()
    deducted = best.filter(pl.col("_diff") > 0).collect(engine="in-memory")
    if deducted.is_empty():
        return None
    origin = pl.lit("rule:") + pl.col("_rule_id")
    moved = deducted.lazy().with_columns(id=derived_id("sent"), amount=pl.col("_sent"),
                                         origin=origin)
    fee = deducted.lazy().with_columns(
        id=derived_id("deducted"), kind=pl.lit("bank_fee"),
        category=pl.lit("intermediary_deduction"), amount=-pl.col("_diff"),
        ref=pl.lit(None, dtype=pl.String),
        related_ref=pl.coalesce("_out_ref", "ref", derived_id("sent")),
        hours=pl.lit(None, dtype=pl.Float64), origin=origin,
        description=pl.lit("Deducted on the way from ") + pl.col("_out_account")
        + pl.lit(": sent ") + pl.col("_sent").cast(pl.String) + pl.lit(", credited ")
        + pl.col("amount").cast(pl.String) + pl.lit(" ") + pl.col("currency")
        + pl.lit(" (measured by rule ") + pl.col("_rule_id") + pl.lit(")"))
    return deducted, [moved, fee]

