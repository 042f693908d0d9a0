"""The period report as plain data (`ledger.report/1`); render.py turns it into table/json/csv.

Every row in the period is counted (ledger.counting: fee rules with reconcile's matches, then
payments to workers) and valued in the report currency at its date's rate, and summed by kind
into the totals lines (ledger.totals: exact, rounded once, net footed from the rounded lines).
The period and report currency are ledger.periods'; they, the totals lines and the kinds that
are not income are re-exported here under the names callers know them by.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.core.config import reading_locale
from ledger.core.errors import DataError, UsageError
from ledger.core.periods import YEARS, Period, check_year, report_currency, resolve_period
from ledger.core.periods import iso_date as _iso
from ledger.core.providers import platform as source_platform
from ledger.core.providers import provider_of
from ledger.core.schema import engine_for
from ledger.counting.totals import (
    COSTS,
    NOT_INCOME,
    day_sums,
    present_totals,
    sums_by_month,
    totals_of,
)
from ledger.reports.breakdown import by_client, by_platform, client_sums

if TYPE_CHECKING:

    import polars as pl

    from ledger.counting.pipeline import Counted
    from ledger.store.directory import Ledger
    from rules.fees import Schedule
    from rules.fx import FxChain

__all__ = ["COSTS", "NOT_INCOME", "YEARS", "Period", "_iso", "build", "check_year",
           "present_totals", "report_currency", "resolve_period"]

SCHEMA = "ledger.report/1"

VALUED = ("date", "source", "account", "kind", "amount", "currency", "hours", "counterparty",
          "ref", "related_ref", "origin", "line")
"""The counted rows' columns the report's figures read, valued in the report currency
(amount, currency and line only for that: dropped once `value` is there). The period's rows
are never copied with every column (description, ids...)."""


def build(ledger: Ledger, period: Period | None = None, currency: str | None = None,
          online: bool = False, *, rows: pl.DataFrame | None = None, chain: FxChain | None = None,
          **period_options: object) -> dict:
    """The report for a period as a JSON-ready dict (schema `ledger.report/1`). A caller that
    has read the ledger's rows and built its FX chain already passes them (`rows`, `chain`)."""
    import polars as pl

    from importers import hours
    from ledger import reconcile
    from ledger.counting import attribution, rule_tools
    from ledger.reports import views
    from rules.fx import FxChain

    rows = ledger.rows() if rows is None else rows
    if rows.is_empty():
        raise DataError("the ledger is empty", path=ledger.root,
                        hint="import exports first: ledger import FILE")
    period = period or resolve_period(rows, **period_options)  # type: ignore[arg-type]
    currency = report_currency(ledger, currency)
    chain = chain or FxChain.for_ledger(rows, ledger.rates_path, online=online)
    found, counted, owed_unpaid, value_chains = count_period(ledger, rows, period, currency,
                                                             chain)
    journeys, schedule = found.journeys, found.schedule
    # the columns the figures read, valued: never a copy of every column of the period's rows.
    # Transfers stay in (each figure reads only the kinds it counts): a copy of a year's rows
    # without them cost more than any figure read from them
    conversion = chain.convert(counted.select(VALUED), currency, where=str(ledger.rates_path))
    valued = conversion.rows.drop("amount", "currency", "line")
    rates, fx_warnings = conversion.rates, conversion.warnings
    # the costs of moving and converting money, charged to whose money it was
    costs = traced_costs(ledger, rows, period, currency, chain, counted, journeys)
    del found, counted, conversion  # the counted rows with every column: a year's are large
    # every month's sums and the period's from one group_by: a year is one pass, not twelve;
    # the same pass's sums per source are by_platform's
    daily = day_sums(valued.lazy()).collect(engine=engine_for(valued.height))
    month_sums, by_kind = sums_by_month(daily)
    totals = totals_of(by_kind)
    sheet = hours.for_period(ledger.hours(), period.start, period.end)
    billed = views.billed_hours(valued)
    totals["hours"], totals["unpaid_hours"], client_hours = hours.combine(billed, sheet)
    shown = present_totals(totals, currency)
    first, last = rows["date"].min(), rows["date"].max()
    span = (max(period.start, first), min(period.end, last))
    benchmarks = benchmarks_for(ledger, period, currency, shown, chain,
                                span if span[0] <= span[1] else None)
    months = views.monthly(month_sums, billed, sheet, currency, benchmarks) \
        if (period.start.year, period.start.month) != (period.end.year, period.end.month) \
        else []
    clients = client_sums(valued).collect(  # by_platform's and by_client's
        engine=engine_for(valued.height))
    # rows per import, counted over runs of one import_id first (a ledger's rows come a file
    # at a time: a fifth of the time of grouping each row's id); every row when the period
    # holds them all (a year that is the whole ledger: no pass over its dates and ids)
    inside = rows.lazy() if period.start <= first and last <= period.end else \
        rows.lazy().filter(pl.col("date").is_between(period.start, period.end))
    per_import = inside.select(pl.col("import_id").rle()).unnest("import_id").group_by(
        pl.col("value").alias("import_id")).agg(pl.col("len").sum()).sort("import_id") \
        .collect(engine=engine_for(rows.height)).rows()
    counted_rows = sum(n for _, n in per_import)
    return {
        "schema": SCHEMA,
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "label": period.label},
        "currency": currency,
        "locale": reading_locale(ledger),
        "totals": shown,
        "gross_without_hours": _gross_without_hours(valued, currency, client_hours),
        "by_platform": by_platform(valued, currency, client_hours, costs, clients=clients,
                                   daily=daily, net=Decimal(shown["net"]),
                                   gross=Decimal(shown["gross"])),
        "by_client": by_client(valued, currency, client_hours, costs, clients=clients,
                               net=Decimal(shown["net"]), gross=Decimal(shown["gross"])),
        "payout_costs": attribution.present(costs, currency),
        "benchmarks": benchmarks,
        "months": months,
        "rates": [_rate_json(r) for r in rates.iter_rows(named=True)],
        "rules": rule_tools.describe(rules_used(valued, schedule, currency), ledger),
        "sources": _sources(ledger, per_import),
        "payouts_owed_unpaid": owed_unpaid,
        "value_chains": value_chains,
        "chains": reconcile.report_summary(ledger, rows, period, currency, chain, journeys),
        "rows": counted_rows,
        "warnings": ([] if counted_rows else [no_rows_note(period, first, last)])
        + fx_warnings + rule_tools.warnings_for(valued, shown, period, currency),
    }


def no_rows_note(period: Period, first: dt.date, last: dt.date) -> str:
    """What a report of a period without rows says, first of its `warnings` (`period_note`):
    its zeros are no earnings of that period, only none imported, and where the rows are."""
    return f"no rows in {period.label}; the ledger has rows from {first} to {last}"


def period_note(report: dict) -> str | None:
    """The `no_rows_note` of a report (`build`'s dict) whose period has no rows, else None."""
    return report["warnings"][0] if report["rows"] == 0 else None


def count_period(ledger: Ledger, rows: pl.DataFrame, period: Period, currency: str,
                 chain: FxChain) -> tuple[Counted, pl.DataFrame, str | None, list[dict]]:
    """The period's rows as the report counts them: the counting pipeline (`Counted`: its
    schedule and reconcile's result too), then, with [[workers]] or [[splits]], payments to
    workers and payouts.csv (ledger.payouts.for_report: its rules checked, the history
    counted in the same pass as the period); with what is owed unpaid and the value chains
    (None and [] without sub-workers, when ledger.payouts is not even imported)."""
    from ledger.counting import pipeline as counting

    config = ledger.settings()
    if not (config.workers or config.splits):
        found = counting.for_ledger(ledger, rows, (period.start, period.end), chain=chain)
        return found, found.rows, None, []
    from ledger import payouts
    from ledger.counting.kept import Entry
    from rules.fees import Schedule

    # all of it kept between commands (ledger.counting.kept), with payouts.csv and units.csv
    entry = Entry.of(ledger, rows, chain, "report", (period.start, period.end), today=True,
                     extra=(repr(period), currency), files=payouts.files(ledger))
    kept = entry.load() if entry is not None else None
    if kept is not None:
        window_rows, journeys, counted, owed_unpaid, value_chains = kept
        return (counting.Counted(window_rows, Schedule.for_ledger(ledger), journeys), counted,
                owed_unpaid, value_chains)
    # the window and the payouts' history from the ledger's first day: counted once
    found, past = counting.with_history(ledger, rows, (period.start, period.end), chain=chain)
    counted, owed_unpaid, value_chains = payouts.for_report(
        ledger, rows, found.rows, period, currency, chain, found.journeys, past)
    if entry is not None:
        entry.keep((found.rows, found.journeys, counted, owed_unpaid, value_chains))
    return found, counted, owed_unpaid, value_chains


def traced_costs(ledger: Ledger, rows: pl.DataFrame, period: Period, currency: str,
                 chain: FxChain, counted: pl.DataFrame, journeys: object) -> pl.DataFrame:
    """`attribution.traced` of the period's counted rows, kept between commands as the counting
    is (ledger.counting.kept: the same inputs give the same answer): its funding of a 5-year
    ledger's history, a few collects, was a fifth of an everyday report's CPU."""
    from ledger.counting import attribution
    from ledger.counting.kept import Entry

    entry = Entry.of(ledger, rows, chain, "costs", (period.start, period.end), today=True,
                     extra=(repr(period), currency))
    kept = entry.load() if entry is not None else None
    if kept is not None:
        return kept
    costs = attribution.traced(counted, rows, journeys, chain, currency,  # type: ignore[arg-type]
                               where=str(ledger.rates_path))
    if entry is not None:
        entry.keep(costs)
    return costs


def rules_used(valued: pl.DataFrame, schedule: Schedule, currency: str) -> list[dict]:
    """Which rule produced which figures: per rule behind derived rows in the period, its id,
    what it says, its source and confidence, how many rows it made and their sum per report
    line (gross, platform_fees, fx_cost...), in the report currency."""
    import polars as pl

    from ledger.core.money import format_money

    is_rule = pl.col("origin").str.starts_with("rule:")
    rows = valued.lazy()
    derived = rows.filter(is_rule & ~pl.col("kind").is_in(["fx", *NOT_INCOME])).select(
        "origin", "kind", "value")
    # a conversion's FX cost is the sum of both its legs: credit it to the rule that made a leg
    # (the conversion rule before one that only took a fee out of a leg)
    legs = rows.filter((pl.col("kind") == "fx") & pl.col("related_ref").is_not_null()).select(
        "account", "related_ref", "origin", "value")
    touched = legs.group_by("account", "related_ref").agg(
        pl.col("origin").filter(is_rule).sort_by(
            ~pl.col("origin").filter(is_rule).str.contains("conversion")).first(),
        pl.col("value").sum(), pl.len().alias("n")).filter(pl.col("origin").is_not_null())
    # the derived rows' sums and the conversions touched: one collect, their sums one more
    derived, touched = pl.collect_all([
        derived.group_by("origin", "kind").agg(pl.col("value").sum(), pl.len().alias("n")),
        touched], engine="in-memory")
    if derived.is_empty() and touched.is_empty():
        return []
    lines = {"earning": "gross", "refund": "gross", **{kind: line for line, kind in COSTS}}
    sums = pl.concat([
        derived.lazy(),
        touched.lazy().select("origin", pl.lit("fx").cast(valued["kind"].dtype).alias("kind"),
                              "value", pl.col("n").cast(pl.UInt32))], how="vertical_relaxed")
    sums = sums.group_by("origin", "kind").agg(pl.col("value").sum(), pl.col("n").sum()).sort(
        "origin", "kind").collect(engine="in-memory")
    out: dict[str, dict] = {}
    for origin, kind, value, n in sums.iter_rows():
        rule_id = origin.removeprefix("rule:")
        if rule_id not in out:
            known = {r.id: r for r in schedule.rules}.get(rule_id)
            info = known.as_dict() if known else {"id": rule_id, "rule": None, "source": None,
                                                  "confidence": None}
            out[rule_id] = {k: info.get(k) for k in ("id", "rule", "source", "confidence",
                                                     "note")} | {"rows": 0, "figures": {}}
        line = lines.get(kind, "other")
        amount = Decimal(value) if line == "gross" or line == "other" else -Decimal(value)
        figures = out[rule_id]["figures"]
        figures[line] = Decimal(figures.get(line, 0)) + amount
        out[rule_id]["rows"] += n
    for item in out.values():
        item["figures"] = {k: format_money(v, currency) for k, v in item["figures"].items()}
    return list(out.values())


def benchmarks_for(ledger: Ledger, period: Period, currency: str, shown: dict,
                   chain: object, span: tuple[dt.date, dt.date] | None = None) -> list[dict]:
    """Monthly net against the country's benchmarks (empty until `country` is set). The net
    is divided by the months of `span` (the part of the period the ledger has data for), so a
    year with three months of exports is not read as nine months of nothing. Benchmarks in
    another currency are valued at the FX chain's mid rate of the period's last day."""
    from ledger.reports import benchmarks

    config = ledger.settings()
    country = config.country
    if not country:
        return []
    rows = benchmarks.for_country(list(config.benchmarks), country, period.end.year)

    def convert(amount: Decimal, from_currency: str) -> tuple[Decimal, str | None]:
        if from_currency == currency:
            return amount, None
        try:
            rate, provenance, rate_date = chain.mid(  # type: ignore[attr-defined]
                period.end, from_currency, currency, where=str(ledger.rates_path))
        except DataError:
            raise DataError(f"no {from_currency}->{currency} rate near {period.end} for the "
                            "income benchmarks", path=ledger.rates_path,
                            hint=f"add {period.end},{from_currency},{currency},RATE to rates.csv"
                            ) from None
        provider = provenance.split(": ", 1)[0]  # FxChain.mid: "provider: detail (...)"
        return amount * rate, f"{provider} {rate_date}"

    net = Decimal(shown["net"])
    hourly = Decimal(shown["net_hourly"]) if shown["net_hourly"] else None
    first, last = span or (period.start, period.end)
    return benchmarks.compare(rows, net, hourly, benchmarks.months_in(first, last),
                              currency, convert, period.end.year)


def _gross_without_hours(valued: pl.DataFrame, currency: str,
                         client_hours: dict[str, float] | None = None) -> str:
    """Earnings with no hours against them (none on the row, none in a timesheet for the
    client): net per hour cannot account for their time."""
    import polars as pl

    from ledger.core.money import format_money

    timed = [c for c, h in (client_hours or {}).items() if h]  # never "": hours.combine
    # no client is not a timed one: a null test, not a copy of every row's name with "" for it
    # the clients looked up only for the earnings without hours (not every row of a year)
    total = valued.lazy().filter((pl.col("kind") == "earning") & pl.col("hours").is_null()
                                 ).select(pl.col("value").filter(
        ~pl.col("counterparty").is_in(timed).fill_null(False)).sum()).collect(
        engine=engine_for(valued.height)).item()
    return format_money(Decimal(total or 0), currency)


def _rate_json(row: dict) -> dict:
    return {"date": row["date"].isoformat(), "from": row["from"], "to": row["to"],
            "rate": f"{Decimal(row['rate']).normalize():f}", "provider": row["provider"],
            "detail": row["detail"],
            "rate_date": row["rate_date"].isoformat() if row["rate_date"] else None}


def _sources(ledger: Ledger, per_import: list[tuple[str, int]]) -> list[dict]:
    """Which imported files the period's figures come from (provenance): `per_import` is
    (import_id, rows in the period) in import_id order."""
    names = {e["import_id"]: e for e in ledger.active_imports()}
    return [{"import_id": i, "file": names.get(i, {}).get("file"),
             "format": names.get(i, {}).get("format"), "rows": n}
            for i, n in per_import]


def transactions(ledger: Ledger, *, month: str | None = None, start: str | None = None,
                 end: str | None = None, kinds: list[str] | None = None,
                 sources: list[str] | None = None) -> pl.DataFrame:
    """Ledger rows, filtered; every row keeps its import id and line, and gains `file`: the
    name of the export it was imported from (the import log's)."""
    import polars as pl

    from ledger.core.schema import KINDS

    rows = with_files(ledger, ledger.rows())
    wanted = checked_sources(rows, sources) if sources else None
    if month or start or end:
        period = resolve_period(rows, month=month, start=start, end=end)
        rows = rows.filter(pl.col("date").is_between(period.start, period.end))
    if kinds:
        kinds = [k.strip().lower() for k in kinds]
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise UsageError(f"unknown kind(s) {unknown}", hint="kinds: " + ", ".join(KINDS))
        rows = rows.filter(pl.col("kind").is_in(kinds))
    if wanted:
        rows = rows.filter(pl.col("source").str.to_lowercase().is_in(wanted)
                           | source_platform(pl.col("source")).str.to_lowercase().is_in(wanted))
    return rows


def with_files(ledger: Ledger, rows: pl.DataFrame) -> pl.DataFrame:
    """`rows` with `file` after their columns: the name of the file each row's import read,
    null for an import the log does not name."""
    import polars as pl

    names = {e["import_id"]: e.get("file") for e in ledger.active_imports()}
    if not names:
        return rows.with_columns(file=pl.lit(None, pl.String))
    return rows.with_columns(file=pl.col("import_id").replace_strict(
        names, default=None, return_dtype=pl.String))


def checked_sources(rows: pl.DataFrame, sources: list[str]) -> list[str]:
    """`--source` values in lower case (`Upwork` is `upwork`): a source or platform of the
    ledger's rows (`payoneer:USD` or `payoneer`). One the ledger has no row from is refused
    with the list of those it has, rather than answered with an empty table."""
    import polars as pl

    names = rows.select(pl.col("source").str.to_lowercase().unique()).to_series().to_list()
    known = sorted({*names, *(provider_of(n) for n in names)})
    wanted = [s.strip().lower() for s in sources]
    unknown = [s for s, w in zip(sources, wanted, strict=True) if w not in known]
    if unknown:
        raise UsageError(f"no rows from source(s) {', '.join(unknown)} in this ledger",
                         hint="sources: " + (", ".join(known) or "none yet: ledger import "
                                             "FILE first"))
    return wanted
