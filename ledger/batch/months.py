"""A chunk of workers' counted rows -> their panel rows, in one pass grouped by worker.

`ledger batch` reads a chunk's files (ledger/batch/worker.py) and counts its workers
together (ledger/batch/counting.py); everything after that (monthly lines in USD and the
local currency, channels, hours, benchmarks, ratios and the livelihood trajectory) runs here
once per chunk of workers over frames that carry a worker column (`W`), so the cost of the
many small polars operations is paid per chunk, not per worker. Each worker's rows are
exactly what they would be alone: every grouping and join is keyed by the worker.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

W = "_w"
"""The worker column: the worker's index in its chunk."""

SOURCES = {"config": "rule"}
"""Timesheet row origin -> `hours_source` word (any other origin is a timesheet file)."""


def workers_frame(rows: list[tuple[int, str, str | None, bool, dt.date, dt.date]]
                  ) -> pl.DataFrame:
    """(index, country, local currency, has local figures, first date, last date) per worker."""
    import polars as pl

    return pl.DataFrame(rows, orient="row", schema={
        W: pl.Int64, "country": pl.String, "local": pl.String, "has_local": pl.Boolean,
        "first": pl.Date, "last": pl.Date})


def tagged(frames: list[pl.DataFrame], index: list[int], columns: list[str]) -> pl.DataFrame:
    """The frames' `columns` stacked, each row tagged with its frame's worker index."""
    import polars as pl

    stacked = pl.concat([f.lazy().select(columns) for f in frames],  # one query, not one
                        how="vertical_relaxed").collect(engine="in-memory")  # per frame
    worker = pl.DataFrame({W: index, "_n": [f.height for f in frames]},
                          schema={W: pl.Int64, "_n": pl.Int64})
    tags = worker.select(pl.col(W).repeat_by("_n").explode())
    return pl.concat([tags.filter(pl.col(W).is_not_null()), stacked], how="horizontal")


def panel_rows(workers: pl.DataFrame, usd: pl.DataFrame, counted: pl.DataFrame,
               sheet: pl.DataFrame, settings: dict[str, Any]) -> pl.DataFrame:
    """Panel rows (pseudonym empty) with `W`, sorted by worker and month.

    `usd`: income rows valued in USD (W, date, kind, amount, currency, value, counterparty,
    hours); `counted`: every counted row (W, date, source); `sheet`: timesheet rows (W, date,
    client, kind, hours, origin)."""
    import polars as pl

    keys = [W, "month"]
    table = (_window(workers, settings)
             .join(_lines(usd, "usd", 2), on=keys, how="left")
             .join(_local_lines(workers, usd), on=keys, how="left")
             .join(_platforms(counted), on=keys, how="left")
             .join(_hours(usd, sheet), on=keys, how="left")
             .join(workers.select(W, "country", "local", "has_local"), on=W, how="left")
             .sort(keys))
    return _finish(table, settings).sort(W, pl.col("month"))


def _month(expr: pl.Expr) -> pl.Expr:
    return expr.dt.truncate("1mo")


def _window(workers: pl.DataFrame, settings: dict[str, Any]) -> pl.DataFrame:
    """Every month from each worker's first dated row to the last (or `as_of`)."""
    import polars as pl

    last = _month(pl.col("last"))
    as_of = settings.get("as_of")
    if as_of:
        last = pl.max_horizontal(last, pl.lit(dt.datetime.strptime(as_of, "%Y-%m").date()))
    return workers.select(W, pl.date_ranges(_month(pl.col("first")), last, "1mo")
                          .alias("month")).explode("month")


def _lines(valued: pl.DataFrame, suffix: str, decimals: int,
           only: tuple[str, ...] | None = None) -> pl.DataFrame:
    """Per worker and month: gross, each cost (positive), other and net, rounded half-even to
    the currency's minor unit; net from the rounded lines (report.present_totals)."""
    import polars as pl

    from ledger.reports.report import COSTS

    value, kind = pl.col("value"), pl.col("kind")
    money = pl.Decimal(38, 2)

    def rounded(expr: pl.Expr) -> pl.Expr:
        return expr.round(decimals, mode="half_to_even").cast(money)

    sums = valued.group_by(W, _month(pl.col("date")).alias("month")).agg(
        rounded(value.filter(kind.is_in(["earning", "refund"])).sum()).alias("gross"),
        *[rounded(-value.filter(kind == k).sum()).alias(line) for line, k in COSTS],
        rounded(value.filter(kind.is_in(["adjustment", "other"])).sum()).alias("other"))
    sums = sums.with_columns(
        (pl.col("gross") - pl.sum_horizontal([pl.col(line) for line, _ in COSTS])
         + pl.col("other")).cast(money).alias("net"))
    names = only or ("gross", *(line for line, _ in COSTS), "other", "net")
    return sums.select(W, "month", *[pl.col(n).alias(f"{n}_{suffix}") for n in names])


def _local_lines(workers: pl.DataFrame, usd: pl.DataFrame) -> pl.DataFrame:
    """gross_local and net_local per worker and month, for the workers with local figures:
    one pass per local currency (its minor unit and USD rates, batch_fx.in_local)."""
    import polars as pl

    from ledger.batch.fx import in_local, reference_chain
    from ledger.core.money import minor_units

    frames = []
    with_local = workers.filter(pl.col("has_local"))
    chain = reference_chain()  # one chain of the references for the chunk's currencies
    for (local,), group in with_local.group_by("local", maintain_order=True):
        rows = usd.join(group.select(W), on=W, how="semi")
        valued = rows if local == "USD" else in_local(rows, str(local), chain)
        frames.append(_lines(valued, "local", minor_units(str(local)), only=("gross", "net")))
    money = pl.Decimal(38, 2)
    empty = pl.DataFrame(schema={W: pl.Int64, "month": pl.Date, "gross_local": money,
                                 "net_local": money})
    return pl.concat([empty, *frames], how="vertical_relaxed")


def _platforms(counted: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    from ledger.core.providers import CHANNELS
    from ledger.core.providers import platform as provider

    # a platform or wallet is its own channel in `platforms`; every other source is a bank
    platform = provider(pl.col("source"))
    channel = pl.when(platform.is_in(CHANNELS)).then(platform).otherwise(pl.lit("bank"))
    return (counted.select(W, _month(pl.col("date")).alias("month"), channel.alias("platforms"))
            .unique().group_by(W, "month").agg(pl.col("platforms").sort().str.join(",")))


def _hours(usd: pl.DataFrame, sheet: pl.DataFrame) -> pl.DataFrame:
    """Paid and unpaid hours per worker and month by hours.combine's rule: a client's
    platform-billed hours win over timesheet paid hours for that client and month; unpaid
    always count. `hours_source`: which sources recorded hours that month (platform,
    rule, timesheet; comma-separated); hours are null where none did, unpaid hours where no
    timesheet or [[hours]] rule did (a platform knows only what it billed)."""
    import polars as pl

    from importers.hours import UNPAID

    keys = [W, "month"]
    month = _month(pl.col("date")).alias("month")
    billed = usd.filter((pl.col("kind") == "earning") & pl.col("hours").is_not_null()).select(
        W, month, pl.col("counterparty").alias("client"), "hours")
    sheet = sheet.select(W, month, "client", "kind", "hours", pl.col("origin").replace_strict(
        SOURCES, default="timesheet", return_dtype=pl.String).alias("source"))
    paid = sheet.filter(pl.col("kind") == "paid").join(
        billed.select(*keys, "client").unique(), on=[*keys, "client"], how="anti",
        nulls_equal=True)
    both = pl.concat([
        billed.group_by(keys).agg(pl.col("hours").sum(), pl.lit(0.0).alias("unpaid_hours")),
        paid.group_by(keys).agg(pl.col("hours").sum(), pl.lit(0.0).alias("unpaid_hours")),
        sheet.filter(pl.col("kind").is_in(UNPAID)).group_by(keys).agg(
            pl.lit(0.0).alias("hours"), pl.col("hours").sum().alias("unpaid_hours"))],
        how="vertical_relaxed")
    sources = pl.concat([billed.select(*keys, pl.lit("platform").alias("source")),
                         sheet.select(*keys, "source")]).unique()
    sources = sources.group_by(keys).agg(pl.col("source").sort().str.join(",")
                                         .alias("hours_source"))
    sums = both.group_by(keys).agg(pl.col("hours").sum(), pl.col("unpaid_hours").sum())
    kept = pl.col("hours_source").str.contains("rule|timesheet")
    return sources.join(sums, on=keys, how="left").with_columns(
        pl.col("hours").fill_null(0.0),
        pl.when(kept).then(pl.col("unpaid_hours").fill_null(0.0)).alias("unpaid_hours"))


@cache
def _benchmark_table() -> pl.DataFrame:
    from ledger.reports import benchmarks

    return benchmarks.table()


@cache
def benchmarks_for(country: str, year: int, names: tuple[str, ...]
                   ) -> tuple[Decimal | None, Decimal | None, str | None]:
    """(monthly per-capita income in USD, monthly minimum wage, its currency) for the country
    and year: the latest figure at or before the year (else the earliest after)."""
    from ledger.reports import benchmarks

    if len(country) != 2:
        return None, None, None
    picked = benchmarks.pick(_benchmark_table(), country, year)
    per_capita = None
    for name in names:
        rows = [r for r in picked if r["benchmark"] == name and r["currency"] == "USD"]
        rows.sort(key=lambda r: "atlas" not in (r["note"] or "").lower())
        figures = [benchmarks.monthly(r) for r in rows]
        figures = [f for f in figures if f is not None]
        if figures:
            per_capita = figures[0][0]
            break
    wage = next((f for f in (benchmarks.monthly(r) for r in picked
                             if r["benchmark"] == "minimum_wage") if f is not None), None)
    wage_currency = next((r["currency"] for r in picked if r["benchmark"] == "minimum_wage"),
                         None)
    return per_capita, (wage[0] if wage else None), wage_currency


def _benchmarks(table: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    """(country, year, per_capita_usd, min_wage_local unrounded, _wage_currency) for each
    country and year in the table (a few dozen pairs per chunk, each looked up once)."""
    import polars as pl

    pairs = table.select("country", "year").unique().sort("country", "year")
    return pl.DataFrame(
        [(c, y, *benchmarks_for(c, y, names)) for c, y in pairs.iter_rows()], orient="row",
        schema={"country": pl.String, "year": pl.Int32, "per_capita_usd": pl.Decimal(38, 12),
                "min_wage_local": pl.Decimal(38, 12), "_wage_currency": pl.String})


def per(numerator: pl.Expr, denominator: pl.Expr, scale: int, dtype: pl.DataType) -> pl.Expr:
    """numerator / denominator to `scale` places (half to even), as `dtype`; null where the
    denominator is not positive. The panel's ratios and hourly figures (and `--bands`'
    ratios of a banded net: ledger.batch.anon)."""
    import polars as pl

    wide = pl.Decimal(38, 12)
    return pl.when(denominator > 0).then(
        (numerator.cast(wide) / denominator.cast(wide)).round(scale, mode="half_to_even")
    ).cast(dtype)


def _finish(table: pl.DataFrame, settings: dict[str, Any]) -> pl.DataFrame:
    """Zero-fill empty months, add rates, benchmarks and the trajectory; panel column order."""
    import polars as pl

    from ledger.batch.columns import PANEL, panel_schema
    from ledger.reports.report import COSTS

    money = pl.Decimal(38, 2)
    ratio = pl.Decimal(38, 4)
    usd_lines = ["gross_usd", *(f"{line}_usd" for line, _ in COSTS), "other_usd", "net_usd"]
    zero = pl.lit(Decimal(0)).cast(money)
    table = table.with_columns(
        *[pl.col(c).fill_null(zero) for c in usd_lines],
        *[pl.when(pl.col("has_local")).then(pl.col(c).fill_null(zero)).cast(money).alias(c)
          for c in ("gross_local", "net_local")],
        pl.col("platforms").fill_null(""),
        pl.col("month").dt.year().cast(pl.Int32).alias("year"))
    bench = _benchmarks(table, tuple(settings["benchmark"]))
    table = table.join(bench, on=["country", "year"], how="left", maintain_order="left"
                       ).with_columns(
        pl.col("per_capita_usd").round(2, mode="half_to_even").cast(money),
        pl.when(pl.col("_wage_currency") == pl.col("local")).then(
            pl.col("min_wage_local").round(2, mode="half_to_even")).cast(money)
        .alias("min_wage_local")).drop("_wage_currency")
    hours = pl.col("hours").round(4).cast(pl.Decimal(38, 4))
    all_hours = (pl.col("hours").fill_null(0.0) + pl.col("unpaid_hours").fill_null(0.0)
                 ).round(4).cast(pl.Decimal(38, 4))
    net, gross = pl.col("net_usd"), pl.col("gross_usd")
    channel_costs = pl.sum_horizontal([pl.col(f"{line}_usd") for line in (
        "platform_fees", "payment_fees", "fx_cost", "bank_deductions", "taxes")])

    table = table.with_columns(
        (gross > settings["active_gross_usd"]).alias("active"),
        per(net, hours, 2, money).alias("net_hourly_usd"),
        per(net, all_hours, 2, money).alias("net_hourly_all_usd"),
        per(channel_costs, gross, 4, ratio).alias("effective_cost_rate"),
        per(net, pl.col("per_capita_usd"), 4, ratio).alias("net_vs_per_capita"),
        per(pl.col("net_local"), pl.col("min_wage_local"), 4, ratio).alias("net_vs_min_wage"),
        pl.col("local").alias("local_currency"),
    )
    table = table.join(trajectories(table, settings), on=W, how="left",
                       maintain_order="left").with_columns(
        pl.col("month").dt.strftime("%Y-%m"), pl.lit("").alias("pseudonym"))
    schema = panel_schema()
    return table.select(W, *[pl.col(c.name).cast(schema[c.name]) for c in PANEL])


def trajectories(months: pl.DataFrame, settings: dict[str, Any]) -> pl.DataFrame:
    """(W, trajectory) per worker (batch_columns.TRAJECTORY_SETTINGS): sinking, swimming,
    surviving, struggling, checked in that order; unclassified without a benchmark.

    `months` has one row per month of each worker's window, in order within the worker, with
    `W`, `active`, `net_usd` and `per_capita_usd`."""
    import polars as pl

    active, net, bench = pl.col("active"), pl.col("net_usd"), pl.col("per_capita_usd")
    size = pl.len().cast(pl.Int64)  # unsigned: len - 3 of a 1-month window must not wrap
    recent = pl.int_range(size) >= size - int(settings["sinking_months"])
    counts = months.group_by(W).agg(
        active.filter(recent).any().alias("recent"),
        (bench.null_count() == pl.len()).alias("no_benchmark"),
        active.sum().alias("active"),
        (active & (net >= bench * settings["swimming_ratio"])).sum().alias("swimming"),
        (net >= bench * settings["earning_ratio"]).sum().alias("earning"),
        pl.len().alias("months"))
    decided = [(row[W], _trajectory(row, settings)) for row in counts.iter_rows(named=True)]
    return pl.DataFrame(decided, orient="row", schema={W: pl.Int64, "trajectory": pl.String})


def _trajectory(counts: dict[str, Any], settings: dict[str, Any]) -> str:
    """One worker's trajectory from its month counts (exact: Decimal shares times counts)."""
    if not counts["recent"]:
        return "sinking"
    if counts["no_benchmark"]:
        return "unclassified"
    if counts["swimming"] >= settings["swimming_share"] * counts["active"]:
        return "swimming"
    if counts["earning"] >= settings["surviving_share"] * counts["months"]:
        return "surviving"
    return "struggling"


def classify(months: pl.DataFrame, settings: dict[str, Any]) -> str:
    """One worker's trajectory from its months (`active`, `net_usd`, `per_capita_usd`, in
    order)."""
    import polars as pl

    return trajectories(months.with_columns(pl.lit(0, dtype=pl.Int64).alias(W)), settings
                        )["trajectory"][0]
