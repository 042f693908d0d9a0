"""A period's totals lines from valued rows: gross, each cost, other and net, exact, then
rounded once for presenting. The report and its month-by-month view both count with these, so
a month is counted exactly like the whole period.

`net` is gross minus every cost plus other adjustments, which is exactly the signed sum of every
row that is not a transfer of the user's own money (conservation; `fx` legs sum to minus the FX
cost). Figures are rounded once, to the currency's minor unit, and the rounded net is computed
from the rounded lines so the statement foots to the cent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

COSTS: tuple[tuple[str, str], ...] = (
    ("platform_fees", "platform_fee"),
    ("payment_fees", "payment_fee"),
    ("fx_cost", "fx"),
    ("bank_deductions", "bank_fee"),
    ("taxes", "tax"),
    ("subcontractor_payouts", "subcontractor_payout"),
    ("expenses", "expense"),
)
"""Report line -> row kind whose (negated) sum it is."""

NOT_INCOME = ("transfer",)
"""Kinds that move the user's own money: excluded from every total."""


def sum_by_kind(valued: pl.DataFrame) -> dict[str, Decimal]:
    """Exact signed sum of `value` per kind."""
    import polars as pl

    sums = valued.group_by("kind").agg(pl.col("value").sum())
    found = {str(k): Decimal(v) for k, v in sums.iter_rows()}
    from ledger.core.schema import KINDS

    return {k: found.get(k, Decimal(0)) for k in KINDS}


def compute_totals(valued: pl.DataFrame) -> dict[str, Decimal | float]:
    """Exact totals (Decimal) and hours (float) from valued rows that are not transfers."""
    return totals_of(sum_by_kind(valued), float(valued["hours"].fill_null(0).sum() or 0.0))


def totals_of(by_kind: dict[str, Decimal], hours: float = 0.0) -> dict[str, Decimal | float]:
    """`compute_totals` from the exact sum per kind (every kind of KINDS a key): what a
    period's months are counted from, one `group_by` for all of them (`sums_by_month`)."""
    totals: dict[str, Decimal | float] = {"gross": by_kind["earning"] + by_kind["refund"]}
    for line, kind in COSTS:
        totals[line] = -by_kind[kind]
    totals["other"] = by_kind["adjustment"] + by_kind["other"]
    totals["net"] = sum(by_kind.values(), Decimal(0))
    totals["hours"] = hours
    totals["unpaid_hours"] = 0.0
    return totals


def day_sums(valued: pl.LazyFrame) -> pl.LazyFrame:
    """Exact `value` summed per (date, source, kind): the one pass over a period's valued rows
    that `sums_by_month` (which sums them again per month and kind) and the report's sums per
    source (reports.breakdown.by_platform) are both read from, as from the rows (exact decimals: the
    same figures). On a 1M-row year one group_by of three keys costs about 2/3 of two of
    two keys each. A plan."""
    import polars as pl

    return valued.group_by("date", "source", "kind").agg(pl.col("value").sum())


def sums_by_month(valued: pl.DataFrame) -> tuple[dict[str, dict[str, Decimal]],
                                                  dict[str, Decimal]]:
    """Exact signed sum of `value` per kind for each calendar month (`YYYY-MM`) with rows and
    for the whole period, from one `group_by` over the period: each month's sums are
    `sum_by_kind` of its rows, the period's the months' added up by polars (exact decimals,
    whatever their digits: the same figures as summing the period's rows). Rows of the kinds
    that are not income (NOT_INCOME) are left out, so `valued` may hold them: a month with
    only those has no sums. `valued` may be `day_sums` of the rows (the same sums)."""
    import polars as pl

    from ledger.core.schema import KINDS

    # per day first (a month of a date column costs more than the group_by), then per month
    sums = valued.group_by("date", "kind").agg(pl.col("value").sum()).filter(
        ~pl.col("kind").is_in(NOT_INCOME)).group_by(
        pl.col("date").dt.strftime("%Y-%m").alias("_month"), "kind").agg(pl.col("value").sum())
    months: dict[str, dict[str, Decimal]] = {}
    for label, kind, value in sums.iter_rows():
        months.setdefault(label, {k: Decimal(0) for k in KINDS})[str(kind)] = Decimal(value)
    whole = {str(k): Decimal(v) for k, v in sums.group_by("kind").agg(
        pl.col("value").sum()).iter_rows()}
    return dict(sorted(months.items())), {k: whole.get(k, Decimal(0)) for k in KINDS}


def present_totals(totals: dict[str, Decimal | float], currency: str) -> dict[str, str | None]:
    """Round each money line once; net is re-derived from the rounded lines so it foots."""
    from ledger.core.money import format_money, round_money

    shown: dict[str, str | None] = {}
    rounded = {k: round_money(v, currency) for k, v in totals.items()
               if isinstance(v, Decimal) and k != "net"}
    net = rounded["gross"] - sum((rounded[line] for line, _ in COSTS), Decimal(0)) \
        + rounded["other"]
    for key in ("gross", *(line for line, _ in COSTS)):
        shown[key] = format_money(rounded[key], currency)
    shown["other"] = format_money(rounded["other"], currency)
    shown["net"] = format_money(net, currency)
    hours = hours_text(totals["hours"])
    unpaid = hours_text(totals["unpaid_hours"])
    shown["hours"] = f"{hours:.2f}"
    shown["unpaid_hours"] = f"{unpaid:.2f}"
    shown["net_hourly"] = format_money(net / hours, currency) if hours else None
    shown["net_hourly_all"] = (format_money(net / (hours + unpaid), currency)
                               if hours + unpaid else None)
    return shown


def hours_text(value: object) -> Decimal:
    """Hours are measured, not money: kept as float, presented to the hundredth."""
    return Decimal(str(round(float(value), 4)))  # type: ignore[arg-type]
