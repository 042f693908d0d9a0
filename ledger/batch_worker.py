"""One worker of a research batch, in memory: exports -> rows -> rules -> FX -> worker-months.

Runs in a pool process (`process(task)`), so it gets only what it needs: the worker's pseudonym,
country and file paths with their file pseudonyms (never the key). Each file goes through the
same importers as `ledger import` (registry.parse on the bytes, timesheets through
ledger.hours), the rows through the same fee rules and reconcile matches
(report.apply_journeys) and FX chain (rates implied by the worker's own conversions, then the
bundled offline references; never the network) as `ledger report`, and the result is one
small frame: one row per month of the worker's window, in the panel's columns
(ledger/batch_columns.py), with the livelihood trajectory. A file that cannot be read becomes
an error row and the rest goes on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl

    from rules.fees import Schedule

LOCAL_EXTRA = {"TH": "THB", "UA": "UAH", "RS": "RSD", "BR": "BRL", "GB": "GBP", "NP": "NPR",
               "GH": "GHS", "UG": "UGX", "ET": "ETB", "ZA": "ZAR", "MX": "MXN", "AR": "ARS",
               "CO": "COP", "VE": "VES", "TR": "TRY", "MA": "MAD", "TN": "TND", "RU": "RUB"}
"""Countries beyond rules.fees.LOCAL_CURRENCY (PK PKR, PH PHP, IN INR, BD BDT, NG NGN, KE KES,
ID IDR, VN VND, MY MYR, LK LKR, EG EGP, US USD); others fall back to CLDR's territory currency."""

CHANNELS = ("upwork", "fiverr", "freelancer", "paypal", "payoneer", "wise")
"""Sources that are their own channel in `platforms`; every other source is a bank."""

HISTORY = (dt.date(2000, 1, 1), dt.date(2030, 12, 31))
"""The span of bundled reference rates loaded once per process and currency."""


@dataclass(frozen=True)
class WorkerTask:
    pseudonym: str
    country: str
    files: tuple[tuple[str, str], ...]
    """(path, file pseudonym) of each file to read."""
    settings: dict[str, Any]
    """Trajectory settings (validated)."""
    config: tuple[str, str] | None = None
    """(path, file pseudonym) of the worker's ledger.toml, if any."""
    profiles: str | None = None
    """The worker's bank profiles folder, if any."""


@dataclass
class WorkerResult:
    pseudonym: str
    panel: pl.DataFrame | None
    errors: list[tuple[str, str, int | None, str, str]] = field(default_factory=list)
    """(file pseudonym, real path or "" for the worker as a whole, line, error class code,
    exception type for an unexpected error) per problem: never an exception's text
    (ledger/batch_errors.py)."""
    rows: int = 0
    files_read: int = 0


def local_currency(country: str) -> str | None:
    from rules.fees import LOCAL_CURRENCY

    found = LOCAL_CURRENCY.get(country) or LOCAL_EXTRA.get(country)
    if found or len(country) != 2:
        return found
    try:
        from babel.numbers import get_territory_currencies

        currencies = get_territory_currencies(country)
    except Exception:  # unknown territory: babel raises several types
        return None
    return currencies[0] if currencies else None


def process(task: WorkerTask) -> WorkerResult:
    """The worker's panel rows, or None with error rows; never raises for bad data."""
    from ledger.batch_errors import UNEXPECTED, classify

    result = WorkerResult(task.pseudonym, None)

    def fail(token: str, path: str, exc: BaseException) -> None:
        error_class, line = classify(exc)
        detail = type(exc).__name__ if error_class is UNEXPECTED else ""
        result.errors.append((token, path, line, error_class.code, detail))

    config: dict = {}
    if task.config:
        try:
            config = _read_config(Path(task.config[0]))
        except Exception as exc:
            fail(task.config[1], task.config[0], exc)
    frames, sheets = [], []
    profiles = [Path(task.profiles)] if task.profiles else []
    for path, token in task.files:
        try:
            kind, frame = read_file(Path(path), profiles)
        except Exception as exc:
            fail(token, path, exc)
            continue
        result.files_read += 1
        (frames if kind == "rows" else sheets).append(frame)
    try:
        result.panel, result.rows = worker_months(frames, sheets, task.country, task.settings,
                                                  config)
    except Exception as exc:
        fail("", "", exc)
    return result


def process_many(tasks: list[WorkerTask]) -> list[WorkerResult]:
    """Results of a chunk of workers, in the order given: the unit of work the batch engine
    schedules (one task per chunk, so per-task overhead is paid once per chunk)."""
    return [process(task) for task in tasks]


def _read_config(path: Path) -> dict:
    import tomllib

    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"invalid ledger.toml: {type(exc).__name__}", path=path,
                        hint="fix the syntax") from None


def read_file(path: Path, profiles: list[Path]) -> tuple[str, pl.DataFrame]:
    """("rows", canonical rows) for an export; ("hours", timesheet rows) for a timesheet."""
    from importers import registry
    from importers.base import ImportOptions
    from ledger import hours

    raw = registry.read(path)  # its head is split once for all the formats asking
    options = ImportOptions()
    try:
        return "rows", registry.parse(raw, options, profile_dirs=profiles).rows
    except DataError as exc:
        if not exc.message.startswith("unknown layout"):
            raise
        try:
            hours.detect(raw)
        except DataError:
            raise exc from None
        return "hours", hours.parse(raw, options)[0]


# --- reference rates and rules, loaded once per process ----------------------------------------

@cache
def _history(currency: str) -> pl.DataFrame:
    """Every bundled reference rate of a currency; an ECB currency's also crossed to USD
    through EUR (rules.fx crosses USD-bound lookups through no pivot but USD itself, so
    INR->USD would find none from EUR->INR and EUR->USD alone)."""
    import polars as pl

    from rules.fx import bundled_reference, rate_dtype

    table = bundled_reference({currency}, *HISTORY)
    if currency in ("USD", "EUR"):
        return table
    per_eur = table.filter((pl.col("from") == "EUR") & (pl.col("to") == currency))
    if per_eur.is_empty():
        return table
    usd = _history("USD").filter((pl.col("from") == "EUR") & (pl.col("to") == "USD"))
    crossed = per_eur.join(usd.select("date", pl.col("rate").alias("_usd")), on="date").select(
        "date", pl.lit(currency).alias("from"), pl.lit("USD").alias("to"),
        (pl.col("_usd") / pl.col("rate")).cast(rate_dtype()).alias("rate"), "provider",
        pl.lit("ECB reference rates, crossed through EUR").alias("detail"))
    return pl.concat([table, crossed], how="vertical_relaxed")


def cached_reference(currencies: set[str], start: dt.date, end: dt.date) -> pl.DataFrame:
    """rules.fx.bundled_reference from a per-process cache of each currency's whole history;
    where a currency has no rate in [start, end] (data past the bundled history), the nearest
    few rates outside it, which the chain then uses as stale."""
    import polars as pl

    from rules.fx import _table

    frames = [_table()]
    for currency in sorted(currencies):
        history = _history(currency)
        if history.is_empty():
            continue
        inside = history.filter(pl.col("date").is_between(start, end))
        if inside.is_empty():
            before = history.filter(pl.col("date") < start).sort("date").tail(5)
            inside = before if before.height else history.sort("date").head(5)
        frames.append(inside)
    return pl.concat(frames, how="vertical_relaxed").unique(maintain_order=True)


@cache
def _schedule(country: str) -> Schedule:
    from rules.fees import load_schedule

    return load_schedule({"country": country} if len(country) == 2 else {})


def schedule_for(country: str, config: dict) -> Schedule:
    """The bundled schedule, with the worker's own ledger.toml [fees] if they sent one."""
    from rules.fees import load_schedule

    if config.get("fees"):
        return load_schedule({**config, "country": country} if len(country) == 2
                             else config, where="ledger.toml")
    return _schedule(country)


@cache
def _benchmark_table() -> pl.DataFrame:
    from ledger import benchmarks

    return benchmarks.table()


@cache
def benchmarks_for(country: str, year: int, names: tuple[str, ...]
                   ) -> tuple[Decimal | None, Decimal | None, str | None]:
    """(monthly per-capita income in USD, monthly minimum wage, its currency) for the country
    and year: the latest figure at or before the year (else the earliest after)."""
    from ledger import benchmarks

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


# --- the worker's months -------------------------------------------------------------------


def worker_months(frames: list[pl.DataFrame], sheets: list[pl.DataFrame], country: str,
                  settings: dict[str, Any], config: dict | None = None
                  ) -> tuple[pl.DataFrame | None, int]:
    """(panel rows without the pseudonym, canonical rows read) for one worker's parsed files.

    Rows repeated across overlapping exports count once (by id, as `ledger import`)."""
    import polars as pl

    from ledger import hours as hours_mod
    from ledger import user_rules
    from ledger.report import NOT_INCOME
    from rules.fx import FxChain, implied_rates, rate_dtype

    if not frames:
        if sheets:
            raise DataError("only timesheets were read for this worker: no transactions",
                            hint="hours count only beside a platform or bank export")
        raise DataError("no export could be read for this worker",
                        hint="see the other errors of this worker")
    rows = pl.concat(frames, how="vertical_relaxed").unique("id", keep="first",
                                                            maintain_order=True)
    rows = user_rules.apply(rows, user_rules.load(config or {}, "ledger.toml"))
    if rows.is_empty():
        raise DataError("the worker's exports hold no transactions")
    @cache
    def chain() -> FxChain:  # only built where something is converted or reconciled
        built = FxChain([implied_rates(rows)])
        built.reference = cached_reference
        return built

    counted = counted_like_report(rows, schedule_for(country, config or {}), config or {},
                                  chain)
    if counted["currency"].eq("USD").all():  # nothing to convert (FxChain.convert's shortcut)
        valued = counted.with_columns(pl.col("amount").cast(rate_dtype()).alias("value"))
    else:
        valued = chain().convert(counted, "USD", where="worker").rows
    usd = valued.filter(~pl.col("kind").is_in(NOT_INCOME))
    local = local_currency(country)
    months = _window(rows, settings)
    table = months.join(_lines(usd, "usd", 2), on="month", how="left")
    valued = None
    if local and (local == "USD" or _usd_rates(local).height
                  or usd.filter(pl.col("currency") != local).is_empty()):
        from ledger.money import minor_units

        valued = usd if local == "USD" else in_local(usd, local)
        table = table.join(_lines(valued, "local", minor_units(local), only=("gross", "net")),
                           on="month", how="left")
    else:  # an unknown country, or a currency without bundled rates: no local figures
        table = table.with_columns(pl.lit(None, dtype=pl.Decimal(38, 2)).alias("gross_local"),
                                   pl.lit(None, dtype=pl.Decimal(38, 2)).alias("net_local"))
    sheet = pl.concat(sheets) if sheets else hours_mod.empty()
    if config and config.get("hours"):
        sheet = pl.concat([sheet, hours_mod.from_config(config["hours"])])
    table = (table.join(_platforms(counted), on="month", how="left")
             .join(_hours(usd, sheet), on="month", how="left"))
    table = _finish(table, country, local, settings, has_local=valued is not None)
    return table, rows.height


def counted_like_report(rows: pl.DataFrame, schedule: Schedule, config: dict,
                        chain: Callable[[], object]) -> pl.DataFrame:
    """The rows as `ledger report` counts them where it matters to the figures: where a
    withdrawal could arrive in another currency, the fee rules run with reconcile's matches
    over the worker's whole span (report.apply_journeys), so an arrival only the bank shows
    converted is a conversion (its spread FX cost) and intermediary deductions are measured
    on reconcile's pairs. Elsewhere (about half the workers) reconcile is skipped for speed
    (~40 ms a worker) and the fee rules pair same-currency transfers themselves, which
    differs from the report only where two credits fit one withdrawal equally well."""
    from ledger import reconcile
    from ledger.report import apply_journeys
    from rules.fees import apply_rules

    if not reconcile.may_arrive_converted(rows):
        return apply_rules(rows, schedule)
    span = (rows["date"].min(), rows["date"].max())
    journeys = reconcile.reconcile(rows, span, reconcile.settings(config), chain(),
                                   as_of=span[1])
    return apply_journeys(rows, schedule, journeys)


def in_local(usd: pl.DataFrame, local: str) -> pl.DataFrame:
    """`value` in the local currency: a row in it as it is, any other through its USD value at
    the nearest-dated bundled USD->local reference rate (the rate the chain would pick: a
    worker's own conversions rank below the references; and the chain crosses one pivot
    only, so PKR->PHP would find none where PKR->USD->PHP has one)."""
    import polars as pl

    from rules.fx import rate_dtype

    foreign = usd.filter(pl.col("currency") != local)
    if foreign.is_empty():
        return usd.with_columns(pl.col("amount").cast(rate_dtype()).alias("value"))
    rates = _usd_rates(local)
    if rates.is_empty():
        raise DataError(f"no USD->{local} reference rate",
                        hint="the bundled ECB and NBP rates do not cover this currency")
    dates = foreign.select("date").unique().sort("date")
    found = dates.join_asof(rates, on="date", strategy="nearest", check_sortedness=False)
    return usd.join(found, on="date", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("currency") == local).then(pl.col("amount").cast(rate_dtype()))
        .otherwise((pl.col("value") * pl.col("_rate")).cast(rate_dtype())).alias("value")
    ).drop("_rate")


@cache
def _usd_rates(local: str) -> pl.DataFrame:
    """(date, _rate): USD->local per day from the bundled references, sorted by date."""
    import polars as pl

    from rules.fx import rate_dtype

    history = _history(local)
    direct = history.filter((pl.col("from") == local) & (pl.col("to") == "USD")
                            & (pl.col("rate") != 0))
    return (direct.group_by("date").agg(pl.col("rate").first())
            .select("date", (pl.lit(1).cast(rate_dtype()) / pl.col("rate")).cast(rate_dtype())
                    .alias("_rate")).sort("date"))


def _month(expr: pl.Expr) -> pl.Expr:
    return expr.dt.truncate("1mo")


def _window(rows: pl.DataFrame, settings: dict[str, Any]) -> pl.DataFrame:
    """Every month from the worker's first dated row to the last (or `as_of`)."""
    import polars as pl

    first, last = rows["date"].min(), rows["date"].max()
    first, last = first.replace(day=1), last.replace(day=1)
    as_of = settings.get("as_of")
    if as_of:
        last = max(last, dt.datetime.strptime(as_of, "%Y-%m").date())
    return pl.DataFrame({"month": pl.date_range(first, last, "1mo", eager=True)})


def _lines(valued: pl.DataFrame, suffix: str, decimals: int,
           only: tuple[str, ...] | None = None) -> pl.DataFrame:
    """Per month: gross, each cost (positive), other and net, rounded half-even to the
    currency's minor unit; net from the rounded lines (report.present_totals)."""
    import polars as pl

    from ledger.report import COSTS

    value, kind = pl.col("value"), pl.col("kind")
    money = pl.Decimal(38, 2)

    def rounded(expr: pl.Expr) -> pl.Expr:
        return expr.round(decimals, mode="half_to_even").cast(money)

    sums = valued.group_by(_month(pl.col("date")).alias("month")).agg(
        rounded(value.filter(kind.is_in(["earning", "refund"])).sum()).alias("gross"),
        *[rounded(-value.filter(kind == k).sum()).alias(line) for line, k in COSTS],
        rounded(value.filter(kind.is_in(["adjustment", "other"])).sum()).alias("other"))
    sums = sums.with_columns(
        (pl.col("gross") - pl.sum_horizontal([pl.col(line) for line, _ in COSTS])
         + pl.col("other")).cast(money).alias("net"))
    names = only or ("gross", *(line for line, _ in COSTS), "other", "net")
    return sums.select("month", *[pl.col(n).alias(f"{n}_{suffix}") for n in names])


def _platforms(counted: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    platform = pl.col("source").str.split(":").list.first()
    channel = pl.when(platform.is_in(CHANNELS)).then(platform).otherwise(pl.lit("bank"))
    return (counted.select(_month(pl.col("date")).alias("month"), channel.alias("platforms"))
            .unique().group_by("month").agg(pl.col("platforms").sort().str.join(",")))


def _hours(usd: pl.DataFrame, sheet: pl.DataFrame) -> pl.DataFrame:
    """Paid and unpaid hours per month by hours.combine's rule: a client's platform-billed
    hours win over timesheet paid hours for that client and month; unpaid always count."""
    import polars as pl

    from ledger.hours import UNPAID

    month = _month(pl.col("date")).alias("month")
    billed = usd.filter((pl.col("kind") == "earning") & pl.col("hours").is_not_null()).select(
        month, pl.col("counterparty").alias("client"), "hours")
    frames = [billed.group_by("month").agg(pl.col("hours").sum(),
                                           pl.lit(0.0).alias("unpaid_hours"))]
    if not sheet.is_empty():
        sheet = sheet.select(month, "client", "kind", "hours")
        paid = sheet.filter(pl.col("kind") == "paid").join(
            billed.select("month", "client").unique(), on=["month", "client"], how="anti",
            nulls_equal=True)
        frames.append(paid.group_by("month").agg(pl.col("hours").sum(),
                                                 pl.lit(0.0).alias("unpaid_hours")))
        frames.append(sheet.filter(pl.col("kind").is_in(UNPAID)).group_by("month").agg(
            pl.lit(0.0).alias("hours"), pl.col("hours").sum().alias("unpaid_hours")))
    both = pl.concat(frames, how="vertical_relaxed")
    return both.group_by("month").agg(pl.col("hours").sum(), pl.col("unpaid_hours").sum())


def _finish(table: pl.DataFrame, country: str, local: str | None,
            settings: dict[str, Any], has_local: bool = True) -> pl.DataFrame:
    """Zero-fill empty months, add rates, benchmarks and the trajectory; panel column order."""
    import polars as pl

    from ledger.batch_columns import PANEL, panel_schema
    from ledger.report import COSTS

    money = pl.Decimal(38, 2)
    ratio = pl.Decimal(38, 4)
    usd_lines = ["gross_usd", *(f"{line}_usd" for line, _ in COSTS), "other_usd", "net_usd"]
    zero = pl.lit(Decimal(0)).cast(money)
    fills = [pl.col(c).fill_null(zero) for c in usd_lines]
    if local and has_local:
        fills += [pl.col(c).fill_null(zero) for c in ("gross_local", "net_local")]
    table = table.with_columns(*fills, pl.col("hours", "unpaid_hours").fill_null(0.0),
                               pl.col("platforms").fill_null(""))
    years = sorted(set(table["month"].dt.year().to_list()))
    names = tuple(settings["benchmark"])
    bench = pl.DataFrame(
        [(y, *benchmarks_for(country, y, names)) for y in years], orient="row",
        schema={"year": pl.Int32, "per_capita_usd": pl.Decimal(38, 12),
                "min_wage_local": pl.Decimal(38, 12), "_wage_currency": pl.String})
    bench = bench.with_columns(
        pl.col("per_capita_usd").round(2, mode="half_to_even").cast(money),
        pl.when(pl.col("_wage_currency") == pl.lit(local, dtype=pl.String)).then(
            pl.col("min_wage_local").round(2, mode="half_to_even")).cast(money)
        .alias("min_wage_local")).drop("_wage_currency")
    table = table.with_columns(pl.col("month").dt.year().cast(pl.Int32).alias("year")).join(
        bench, on="year", how="left")
    hours = pl.col("hours").round(4).cast(pl.Decimal(38, 4))
    all_hours = (pl.col("hours") + pl.col("unpaid_hours")).round(4).cast(pl.Decimal(38, 4))
    net, gross = pl.col("net_usd"), pl.col("gross_usd")
    channel_costs = pl.sum_horizontal([pl.col(f"{line}_usd") for line in (
        "platform_fees", "payment_fees", "fx_cost", "bank_deductions", "taxes")])

    def per(numerator: pl.Expr, denominator: pl.Expr, scale: int, dtype: pl.DataType
            ) -> pl.Expr:
        wide = pl.Decimal(38, 12)
        return pl.when(denominator > 0).then(
            (numerator.cast(wide) / denominator.cast(wide)).round(scale, mode="half_to_even")
        ).cast(dtype)

    table = table.with_columns(
        (gross > settings["active_gross_usd"]).alias("active"),
        per(net, hours, 2, money).alias("net_hourly_usd"),
        per(net, all_hours, 2, money).alias("net_hourly_all_usd"),
        per(channel_costs, gross, 4, ratio).alias("effective_cost_rate"),
        per(net, pl.col("per_capita_usd"), 4, ratio).alias("net_vs_per_capita"),
        per(pl.col("net_local"), pl.col("min_wage_local"), 4, ratio).alias("net_vs_min_wage"),
        pl.lit(local, dtype=pl.String).alias("local_currency"),
        pl.lit(country).alias("country"),
    )
    table = table.with_columns(pl.lit(classify(table, settings)).alias("trajectory"),
                               pl.col("month").dt.strftime("%Y-%m"),
                               pl.lit("").alias("pseudonym"))
    schema = panel_schema()
    return table.select([pl.col(c.name).cast(schema[c.name]) for c in PANEL])


def classify(months: pl.DataFrame, settings: dict[str, Any]) -> str:
    """The worker's livelihood trajectory (batch_columns.TRAJECTORY_SETTINGS): sinking,
    swimming, surviving, struggling, checked in that order; unclassified without a benchmark.

    `months` has one row per month of the window, in order, with `active`, `net_usd` and
    `per_capita_usd`."""
    import polars as pl

    last = months.tail(int(settings["sinking_months"]))
    if not last["active"].any():
        return "sinking"
    bench = pl.col("per_capita_usd")
    if months["per_capita_usd"].null_count() == months.height:
        return "unclassified"
    counts = months.select(
        pl.col("active").sum().alias("active"),
        (pl.col("active") & (pl.col("net_usd") >= bench * settings["swimming_ratio"]))
        .sum().alias("swimming"),
        (pl.col("net_usd") >= bench * settings["earning_ratio"]).sum().alias("earning"),
    ).row(0, named=True)
    if counts["swimming"] >= settings["swimming_share"] * counts["active"]:
        return "swimming"
    if counts["earning"] >= settings["surviving_share"] * months.height:
        return "surviving"
    return "struggling"
