"""Owed and paid valued in each worker's currency (each line rounded once, so a statement's
totals are the sums of its lines), balances per worker, and per contract where the client's
money went (platform, payment, taxes, sub-workers, margin) in the report currency: the
`Summary` that `ledger payouts`, statements and the report read. Rates come from the FX chain
(FxChain.convert), each valued line keeping the rate and provider it was valued at."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger.core.errors import DataError
from ledger.payouts.owed import claimable_plan
from ledger.payouts.rules import (
    NO_CONTRACT,
    PAYMENT_COSTS,
    PLATFORM_COSTS,
    TAX_COSTS,
    UNTIED,
    WORK,
    Rules,
    frame_sum,
)
from rules.fx_reference import plan_flags

if TYPE_CHECKING:
    import polars as pl

    from ledger.core.periods import Period

@dataclass
class Summary:
    """Everything `ledger payouts`, statements and the report need, exact (Decimal)."""

    rules: Rules
    period: Period
    currency: str
    items: pl.DataFrame            # owed, with `value` in the worker's currency
    paid: pl.DataFrame             # payments, with `value` in the worker's currency
    balances: list[dict]           # per worker: opening, owed, paid, closing (Decimal)
    contracts: list[dict] = field(default_factory=list)   # report currency, Decimal
    chain: list[dict] = field(default_factory=list)       # value chain, report currency
    warnings: list[str] = field(default_factory=list)


_TAKEN = {"value", "fx_rate", "fx_provider", "rate_date", "_rate", "_provider", "_rate_date"}
"""Columns `FxChain.convert(fx_columns=True)` adds (or uses on the way): a frame with one of
them is valued and joined with its rates apart, as before."""


def with_value(frame: pl.DataFrame, to: str, chain: Any, where: str,
               warnings: list[str] | None = None) -> pl.DataFrame:
    """`frame` (date, currency, amount, source, line) with `value` in `to`, `fx_rate`,
    `fx_provider`, `rate_date`; the FX chain's warnings (a rate from far from the day, a
    coarse one) added to `warnings` when given."""
    import polars as pl

    from rules.fx_reference import rate_dtype

    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype=rate_dtype()).alias("value"),
                                  pl.lit(None, dtype=rate_dtype()).alias("fx_rate"),
                                  pl.lit(None, dtype=pl.String).alias("fx_provider"),
                                  pl.lit(None, dtype=pl.Date).alias("rate_date"))
    free = not _TAKEN & set(frame.columns)  # the columns valued with the rows: one plan
    conversion = chain.convert(frame, to, where=where, fx_columns=free)
    if warnings is not None:
        warnings += [w for w in conversion.warnings if w not in warnings]
    if free:
        return conversion.rows
    rates = conversion.rates.lazy().select("date", pl.col("from").alias("currency"),
                                           pl.col("rate").alias("fx_rate"),
                                           pl.col("provider").alias("fx_provider"), "rate_date")
    return conversion.rows.lazy().join(rates, on=["date", "currency"], how="left",
                                       maintain_order="left").collect(
        engine="in-memory", optimizations=plan_flags(frame.height))


def value_items(items: pl.DataFrame, paid: pl.DataFrame, rules: Rules, chain: Any,
                 as_of: dt.date, where: str, warnings: list[str] | None = None
                 ) -> pl.DataFrame:
    """Owed amounts in each worker's currency: at the earning date's rate, or (fx = payout)
    at the rate of the first payment to the worker on or after it, else of `as_of`."""
    import polars as pl

    if items.is_empty():
        return _in_worker_currency(items.with_columns(
            pl.lit(None, dtype=pl.Date).alias("value_date")), rules, chain, where,
            date="value_date", amount="amount", warnings=warnings)
    # one plan: the paydays, each item's first payday on or after it, its value date
    paydays = paid.lazy().filter(pl.col("worker").is_not_null()).select(
        "worker", pl.col("date").alias("_payday")).unique().sort("_payday")
    later = items.lazy().with_row_index("_order").sort("date").join_asof(
        paydays, left_on="date", right_on="_payday", by="worker", strategy="forward",
        check_sortedness=False)
    value_date = pl.when(pl.col("fx") == "payout").then(
        pl.coalesce(pl.col("_payday"), pl.lit(as_of))).otherwise(pl.col("date"))
    later = later.with_columns(pl.min_horizontal(value_date, pl.lit(as_of)).alias("value_date")
                               ).sort("_order").drop("_order", "_payday").collect(
        engine="in-memory", optimizations=plan_flags(items.height + paid.height))
    return _in_worker_currency(later, rules, chain, where, date="value_date", amount="amount",
                               warnings=warnings)


def value_paid(paid: pl.DataFrame, rules: Rules, chain: Any, where: str,
               warnings: list[str] | None = None) -> pl.DataFrame:
    return _in_worker_currency(paid, rules, chain, where, date="date", amount="paid",
                               warnings=warnings)


def _in_worker_currency(frame: pl.DataFrame, rules: Rules, chain: Any, where: str, *,
                        date: str, amount: str, warnings: list[str] | None = None
                        ) -> pl.DataFrame:
    """`frame` with worker_currency and `amount` at `date` in it: value, fx_rate,
    fx_provider and rate_date (the date of the rate used: the nearest the FX chain has, not
    always `date`) (each worker is paid in their own currency)."""
    import polars as pl

    from ledger.core.money import minor_units

    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("worker_currency"),
                                  pl.lit(None, dtype=pl.Decimal(38, WORK)).alias("value"),
                                  pl.lit(None, dtype=pl.Decimal(38, WORK)).alias("fx_rate"),
                                  pl.lit(None, dtype=pl.String).alias("fx_provider"),
                                  pl.lit(None, dtype=pl.Date).alias("rate_date"))
    currencies = {w.name: w.currency for w in rules.workers.values()}
    # Series steps (no polars plan each): the rows of one worker currency (most often all of
    # them) valued at once, their values put back in the rows' order
    paid_in = sorted(set(currencies.values()))
    if len(paid_in) == 1:  # every worker paid in one currency: no lookup per row
        to_of = pl.Series("worker_currency", paid_in * frame.height, dtype=pl.String)
    else:
        to_of = frame["worker"].replace_strict(currencies, return_dtype=pl.String).alias(
            "worker_currency")
        paid_in = to_of.unique().sort().to_list()
    dec = pl.Decimal(38, WORK)
    # several currencies: nulls filled a currency at a time; one: the valued columns as they are
    value, fx_rate, fx_provider, rate_date = (
        pl.Series(name, dtype=dtype).extend_constant(None, frame.height)
        if len(paid_in) > 1 else pl.Series(name, dtype=dtype)
        for name, dtype in (("value", dec), ("fx_rate", dec), ("fx_provider", pl.String),
                            ("rate_date", pl.Date)))
    for to in paid_in:
        at = to_of.eq(to).fill_null(False).arg_true() if len(paid_in) > 1 else None
        whole = at is None or at.len() == frame.height

        def column(name: str, alias: str, at: pl.Series | None = at, whole: bool = whole
                   ) -> pl.Series:
            return (frame[name] if whole or at is None else frame[name].gather(at)).alias(
                alias)

        rows = pl.DataFrame([column(date, "date"), column("currency", "currency"),
                             column(amount, "amount"), column("source", "source"),
                             column("line", "line")])
        try:
            valued = with_value(rows, to, chain, where, warnings)
        except DataError as exc:
            raise _no_rate_for(exc, rules, to, column("worker", "worker")) from None
        # each line is rounded once, to the worker currency's minor unit (half-even): a
        # statement's totals are then the sums of the lines it shows
        rounded = valued["value"].cast(dec).round(minor_units(to))
        if whole:
            value, fx_rate = rounded.alias("value"), valued["fx_rate"].cast(dec).alias("fx_rate")
            fx_provider = valued["fx_provider"].alias("fx_provider")
            rate_date = valued["rate_date"].alias("rate_date")
        else:
            value.scatter(at, rounded)
            fx_rate.scatter(at, valued["fx_rate"].cast(dec))
            fx_provider.scatter(at, valued["fx_provider"])
            rate_date.scatter(at, valued["rate_date"])
    return frame.hstack([to_of, value, fx_rate, fx_provider, rate_date])


def _no_rate_for(exc: DataError, rules: Rules, to: str, workers: pl.Series) -> DataError:
    """A missing rate into a worker's currency (`exc`: FxChain.convert's) as an error naming
    the worker's [[workers]] line in ledger.toml: the worker's currency is what asks for it,
    and reporting in another currency (the rate error's own hint) would not help."""
    names = [w for w in workers.drop_nulls().unique(maintain_order=True).to_list()
             if w in rules.workers]
    worker = rules.workers[names[0]] if names else next(
        w for w in rules.workers.values() if w.currency == to)
    add = (exc.hint or "").split(", or report in ")[0]
    hint = (f"{add} (the mid rate), or run with --online to fetch it; or set the worker's "
            f"currency to one the ledger has rates for") if add.startswith("add a line") \
        else exc.hint
    return DataError(f"worker {worker.name!r} is paid in {to}: {exc.message}",
                     path=rules.where, line=worker.line, hint=hint)


def worker_balances(rules: Rules, items: pl.DataFrame, paid: pl.DataFrame, period: Period
              ) -> list[dict]:
    """Per worker: brought forward (owed minus paid before the period), owed and paid in it,
    and the closing balance; every worker's sums from one group_by of the owed and one of the
    paid (one collect)."""
    import polars as pl

    before = pl.col("date") < period.start
    now = pl.col("date").is_between(period.start, period.end)

    def per_worker(frame: pl.DataFrame, *more: pl.Expr) -> pl.LazyFrame:
        return frame.lazy().group_by("worker").agg(
            before.sum().alias("_n_before"), pl.col("value").filter(before).sum().alias("_before"),
            now.sum().alias("_n_now"), pl.col("value").filter(now).sum().alias("_now"), *more)

    owed_by, paid_by = pl.collect_all([per_worker(items, pl.col("fx").unique().alias("_fx")),
                                       per_worker(paid)], engine="in-memory",
                                      optimizations=plan_flags(items.height + paid.height))
    owed_rows = {row["worker"]: row for row in owed_by.iter_rows(named=True)}
    paid_rows = {row["worker"]: row for row in paid_by.iter_rows(named=True)}

    def total(row: dict | None, when: str) -> Decimal:
        """frame_sum of the worker's rows `when`: 0 without any."""
        if row is None or not row[f"_n_{when}"]:
            return Decimal(0)
        return Decimal(row[f"_{when}"]) if row[f"_{when}"] is not None else Decimal(0)

    out = []
    for worker in rules.workers.values():
        owed, given = owed_rows.get(worker.name), paid_rows.get(worker.name)
        opening = total(owed, "before") - total(given, "before")
        owed_now = total(owed, "now")
        paid_now = total(given, "now")
        fx = sorted(set(owed["_fx"])) if owed is not None else []
        out.append({"worker": worker.name, "currency": worker.currency,
                    "fx": " and ".join(f"rate of the {f} date" for f in fx) or None,
                    "opening": opening, "owed": owed_now, "paid": paid_now,
                    "closing": opening + owed_now - paid_now})
    return out


def add_detail(summary: Summary, in_period: pl.DataFrame, chain: Any, where: str,
               history: pl.DataFrame | None = None, *, journeys: Any = None,
               stored: pl.DataFrame | None = None) -> None:
    """Per contract and value chain for the period, in the report currency. `history`: the
    counted rows up to the period's end; `stored` (the ledger's rows) and `journeys`
    (reconcile's result for the period): what `ledger report` charges its payout costs with,
    so each contract carries the costs of converting its money and getting it home as the
    report's By client does (`traced_by_contract`)."""
    import polars as pl

    period, currency = summary.period, summary.currency
    last = in_period["date"].max()  # a Series maximum: no plan when nothing is later
    rows = in_period if last is None or last <= period.end else in_period.filter(
        pl.col("date") <= period.end)
    valued = with_value(rows, currency, chain, where) if rows.height else rows.with_columns(
        pl.lit(None, dtype=pl.Decimal(38, WORK)).alias("value"))
    traced = traced_by_contract(rows, history, chain, currency, where, journeys=journeys,
                                stored=stored) if history is not None else None
    owed = summary.items.lazy().filter(pl.col("date").is_between(period.start, period.end)
                                       ).select("date", "currency", "amount", "source", "line",
                                                "key", "worker", pl.col("value").alias("_own"),
                                                "worker_currency").collect(
        engine="in-memory", optimizations=plan_flags(summary.items.height))
    # a worker paid in the report currency is owed the lines their statement shows, each
    # rounded once: the contracts and the value chain show the same sum (valued again from
    # the exact amounts, it could be a cent away from the workers' table)
    owed_valued = with_value(owed.drop("_own", "worker_currency"), currency, chain, where
                             ).with_columns(
        pl.when(owed["worker_currency"] == currency).then(owed["_own"].cast(pl.Decimal(
            38, WORK))).otherwise(pl.col("value").cast(pl.Decimal(38, WORK))).alias("value"))
    summary.contracts = contract_table(valued, owed_valued, traced)
    summary.chain = value_chain(summary.contracts, owed_valued,
                                list(summary.rules.workers))


def traced_by_contract(rows: pl.DataFrame, history: pl.DataFrame, chain: Any,
                       currency: str, where: str, *, journeys: Any = None,
                       stored: pl.DataFrame | None = None) -> pl.DataFrame | None:
    """The costs of converting money and getting it home among `rows`, charged to the
    contracts whose earnings the money was, first in, first out
    (ledger.counting.attribution.traced, as `ledger report` charges its payout costs to
    clients): a conversion an export shows (PayPal's EUR->USD of a client's payment), and
    with reconcile's `journeys` the fees, charges, taxes and FX spread a withdrawal carries
    on its way to the bank. Funding is read from `stored` (the ledger's rows, as the report
    reads it), else from `history`. Columns id (the cost's row), kind, key (the contract
    line; UNTIED where the money is untraced), value. None when nothing is traced."""
    import polars as pl

    from ledger.counting import attribution

    if journeys is None and not rows.get_column("kind").eq("fx").any():  # a Series test
        return None
    funded = history if stored is None else stored
    parts = attribution.traced(rows, funded, journeys, chain, currency, where, earnings=True)
    if parts.is_empty():
        return None
    # the funding's earnings are rows of `funded` (a net-of-fee earning the fee rules gross
    # up has another id among the counted rows): their contract lines read there
    earnings = parts.get_column("earning").drop_nulls().unique()
    keys = funded.lazy().filter(pl.col("id").is_in(earnings.implode())).select(
        pl.col("id").alias("earning"),
        pl.coalesce("contract", "counterparty", pl.lit(NO_CONTRACT)).alias("key")).unique(
        "earning", keep="first")
    return parts.lazy().join(keys, on="earning", how="left").select(
        "id", "kind", pl.coalesce("key", pl.lit(UNTIED)).alias("key"), "value").collect(
        engine="in-memory")


def contract_table(valued: pl.DataFrame, owed: pl.DataFrame,
                   traced: pl.DataFrame | None = None) -> list[dict]:
    """Per contract: gross, platform costs, payment costs, taxes, owed to sub-workers and the
    margin (gross minus all of them), exact Decimal in the report currency. A conversion an
    export shows, and a withdrawal's fees, charges, taxes and FX spread, are costs of the
    contracts whose money it was (`traced`: `traced_by_contract`), in the column of their
    kind. Costs neither a rule, an export nor the funding ties to an earning (connects,
    memberships, the costs of money older than the ledger) make their own line, so the lines
    add up to the period's totals."""
    import polars as pl

    claimed = claimable_plan(valued.lazy().drop("value"))
    earned = valued.lazy().join(claimed.select("id", "key"), on="id", how="inner")
    owners = claimed.select(
        "account", pl.col("_link").alias("related_ref"), pl.col("key").alias("_owner")
    ).unique(["account", "related_ref"], keep="first")
    costs = valued.lazy().filter(pl.col("kind").is_in([*PLATFORM_COSTS, *PAYMENT_COSTS,
                                                       *TAX_COSTS]))
    if traced is not None:  # charged to the contracts whose money they were, below
        costs = costs.filter(~pl.col("id").is_in(traced.get_column("id").implode()))
    costs = costs.join(owners, on=["account", "related_ref"], how="left",
                       maintain_order="left").with_columns(
        pl.coalesce("_owner", "contract", pl.lit(UNTIED)).alias("key"))
    lines: dict[str, dict[str, Decimal]] = {}

    def add(key: str, field_: str, amount: object) -> None:
        line = lines.setdefault(key, {k: Decimal(0) for k in (
            "gross", "platform", "payment", "taxes", "owed")})
        line[field_] += Decimal(amount) if amount is not None else Decimal(0)

    def per_key(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.group_by("key").agg(pl.col("value").sum())

    kinds = ((PLATFORM_COSTS, "platform"), (PAYMENT_COSTS, "payment"), (TAX_COSTS, "taxes"))
    # every line's sums in one collect
    gross, *parts = pl.collect_all(
        [per_key(earned), *(per_key(costs.filter(pl.col("kind").is_in(k))) for k, _ in kinds),
         *([per_key(owed.lazy())] if not owed.is_empty() else [])], engine="in-memory",
        optimizations=plan_flags(valued.height + owed.height))
    for key, value in gross.iter_rows():
        add(key, "gross", value)
    for part, (_, name) in zip(parts, kinds, strict=False):
        for key, value in part.iter_rows():
            add(key, name, -Decimal(value) if value is not None else 0)
    if len(parts) > len(kinds):
        for key, value in parts[-1].iter_rows():
            add(key, "owed", value)
    if traced is not None:
        column = {kind: name for kinds_, name in kinds for kind in kinds_}
        for key, kind, value in traced.group_by("key", "kind").agg(
                pl.col("value").sum()).iter_rows():
            add(key, column.get(kind, "payment"), -Decimal(value))
    out = []
    for key, line in lines.items():
        margin = line["gross"] - line["platform"] - line["payment"] - line["taxes"] \
            - line["owed"]
        out.append({"contract": key, **line, "margin": margin})
    out.sort(key=lambda c: (c["contract"] == UNTIED, -c["gross"], c["contract"]))
    return out


def value_chain(contracts: list[dict], owed: pl.DataFrame, workers: list[str]) -> list[dict]:
    """Where the client's money (gross) went: platform, payment providers, taxes, each
    sub-worker and you (the margin). Exact; the amounts add up to gross."""
    import polars as pl

    gross = sum((c["gross"] for c in contracts), Decimal(0))
    parts = [("platform", "platform", sum((c["platform"] for c in contracts), Decimal(0))),
             ("payment providers", "payment", sum((c["payment"] for c in contracts),
                                                  Decimal(0))),
             ("taxes", "taxes", sum((c["taxes"] for c in contracts), Decimal(0)))]
    for name in workers:
        mine = owed.filter(pl.col("worker") == name) if not owed.is_empty() else owed
        parts.append((name, "sub-worker", frame_sum(mine)))
    margin = sum((c["margin"] for c in contracts), Decimal(0))
    parts.append(("you (contractor)", "contractor", margin))
    return [{"party": party, "role": role, "amount": amount, "gross": gross}
            for party, role, amount in parts]
