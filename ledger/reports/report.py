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
from ledger.counting.totals import hours_text as _hours

if TYPE_CHECKING:
    from collections.abc import Callable

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
    charged = attribution.for_report(rows, journeys, currency, chain)
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
    return {
        "schema": SCHEMA,
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "label": period.label},
        "currency": currency,
        "locale": reading_locale(ledger),
        "totals": shown,
        "gross_without_hours": _gross_without_hours(valued, currency, client_hours),
        "by_platform": by_platform(valued, currency, client_hours, charged.by_platform,
                                   clients=clients, daily=daily),
        "by_client": by_client(valued, currency, client_hours, charged.by_client,
                               clients=clients),
        "payout_costs": attribution.present(charged, currency),
        "benchmarks": benchmarks,
        "months": months,
        "rates": [_rate_json(r) for r in rates.iter_rows(named=True)],
        "rules": rule_tools.describe(rules_used(valued, schedule, currency), ledger),
        "sources": _sources(ledger, per_import),
        "payouts_owed_unpaid": owed_unpaid,
        "value_chains": value_chains,
        "chains": reconcile.report_summary(ledger, rows, period, currency, chain, journeys),
        "rows": sum(n for _, n in per_import),
        "warnings": fx_warnings + rule_tools.warnings_for(valued, shown, period,
                                                                  currency),
    }


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


def by_platform(valued: pl.DataFrame, currency: str,
                client_hours: dict[str, float] | None = None,
                payout_costs: dict[str, Decimal] | None = None, *,
                clients: pl.DataFrame | None = None, daily: pl.DataFrame | None = None
                ) -> list[dict]:
    """Gross, platform and payment fees, net and hours per source platform. A client's hours
    (`hours.combine`) count for the platform that carried most of their gross. `payout_costs`
    (ledger.attribution) are the later costs of getting that platform's money home, charged
    back FIFO; `net_home` is net minus them. `clients`: `client_sums` of `valued`, when the
    caller has it (by_client reads it too); `daily`: ledger.totals.day_sums of `valued`, when
    the caller has it (the report's months are read from it too)."""
    import polars as pl

    from ledger.core.money import format_money

    # per source and kind, then per platform: exact sums either way, and a source's platform
    # is read from the few names of the sums (every source with an earning has a sum), not
    # split out of every row nor found by hashing every row's name
    summed = valued if daily is None else daily
    per_source = summed.lazy().group_by("source", "kind").agg(pl.col("value").sum()).filter(
        pl.col("kind").is_in(["earning", "refund", "platform_fee", "payment_fee", "tax",
                              "bank_fee"]))
    if clients is None:
        per_source, clients = pl.collect_all([per_source, client_sums(valued)],
                                             engine=engine_for(valued.height))
    else:
        per_source = per_source.collect(engine=engine_for(summed.height))
    platform = _platform_expr(per_source)
    earned = pl.col("kind").is_in(["earning", "refund"])
    grouped = per_source.lazy().with_columns(platform).group_by("platform").agg(
        pl.col("value").filter(earned).sum().alias("gross"),
        (-pl.col("value").filter(~earned).sum()).alias("fees")).sort(
        "gross", "platform", descending=[True, False])  # equal gross: by name, not by chance
    unbilled, home, grouped = pl.collect_all(
        [*_platform_hours_plans(valued, clients, platform), grouped],
        engine=engine_for(valued.height))
    worked = _platform_hours(unbilled, home, client_hours or {})
    later = payout_costs or {}
    found = [(row["platform"], Decimal(row["gross"] or 0), Decimal(row["fees"] or 0))
             for row in grouped.iter_rows(named=True)]
    seen = {platform for platform, _, _ in found}
    found += [(p, Decimal(0), Decimal(0)) for p in sorted(later) if p not in seen]
    out = []
    for platform, gross, fees in found:
        item = {"platform": platform, "gross": format_money(gross, currency),
                "fees": format_money(fees, currency),
                "net": format_money(gross - fees, currency),
                "hours": f"{_hours(worked.get(platform, 0)):.2f}",
                "net_hourly": _per_hour(gross - fees, worked.get(platform), currency),
                "fee_rate": _ratio(fees, gross)}
        home = _home(gross - fees, later.get(platform, Decimal(0)), currency)
        if not gross and platform not in later:
            # a wallet's or bank's own row: its fees are already in the payout costs of the
            # platforms whose money it carried, so it has no money of its own to bring home
            home["net_home"] = None
        out.append(item | home)
    return out


def client_sums(valued: pl.DataFrame) -> pl.LazyFrame:
    """The earnings and refunds with a client, `value` and `hours` summed per (counterparty,
    source, kind): what by_client's gross and hours per client and by_platform's home
    platform per client are read from, one group_by of a year's rows for both. A plan."""
    import polars as pl

    return valued.lazy().filter(pl.col("kind").is_in(["earning", "refund"])
                                & pl.col("counterparty").is_not_null()).group_by(
        "counterparty", "source", "kind").agg(pl.col("value").sum(), pl.col("hours").sum())


def _fee_clients(owners: pl.DataFrame, named: pl.DataFrame, unnamed: pl.DataFrame,
                 named_clients: Callable[[], pl.Series] | None = None) -> pl.DataFrame:
    """Every fee as (client, value): a fee naming a ref (`named`: account, related_ref,
    counterparty, value) is charged to the counterparty of the earning on the same account
    whose ref it names (`owners`: the earnings with a ref and a counterparty; one per ref, the
    first), else to its own counterparty, as is a fee naming none (`unnamed`: counterparty,
    value). Fees listed beside their earnings are matched row for row (`_listed_together`):
    the earnings' counterparties beside the fees' values, no per-fee owner column gathered.
    Others are joined on a 64-bit hash of (account, ref) to the earning's row number, which
    costs a third of joining the two strings on a year of rows; every match is then checked
    string for string, and on a hash collision the strings are joined instead, so the owners
    are exact either way. `named` may come without its counterparty, then `named_clients`
    gives it, read only when the fees are not listed together (a year's is a column of
    900k names)."""
    import polars as pl

    rest = unnamed.select(pl.col("counterparty").alias("client"), "value")
    if _listed_together(owners, named):
        return pl.concat([pl.DataFrame([owners["counterparty"].alias("client"),
                                        named["value"]]), rest])
    if "counterparty" not in named.columns and named_clients is not None:
        named = named.with_columns(named_clients().alias("counterparty"))
    numbered = owners.lazy().select(
        _ref_key("ref"), pl.int_range(pl.len(), dtype=pl.UInt32).alias("_at")).filter(
        pl.col("_key").is_first_distinct())
    # one row per fee in the fees' order (left join on unique keys): only the row numbers
    at = named.lazy().select(_ref_key("related_ref")).join(
        numbered, on="_key", how="left", maintain_order="left").collect(engine="in-memory")["_at"]
    same = (owners["account"].gather(at) == named["account"]) \
        & (owners["ref"].gather(at) == named["related_ref"])
    if (at.is_null() | same.fill_null(False)).all():
        owner = owners["counterparty"].gather(at)
    else:
        firsts = owners.select("account", pl.col("ref").alias("related_ref"),
                               pl.col("counterparty").alias("owner")).unique(
            ["account", "related_ref"], keep="first", maintain_order=True)
        owner = named.join(firsts, on=["account", "related_ref"], how="left",
                           maintain_order="left")["owner"]
    return pl.concat([named.select(pl.coalesce(owner, pl.col("counterparty")).alias("client"),
                                   "value"), rest])


def _listed_together(owners: pl.DataFrame, named: pl.DataFrame) -> bool:
    """Whether the exports list each fee with the earning it is charged on (PayPal's fee on
    the earning's line, Upwork's fee row beside its earning): the fees naming a ref
    (`named`), in order, name the earnings' (account, ref) one for one, and no earning's
    (account, ref) repeats, so the n-th of those fees is charged on the n-th earning, its
    first with that ref (no join). The checks compare columns row for row: a year's fees
    cost a third of joining them."""
    if not owners.height or named.height != owners.height:
        return False
    if not ((named["account"] == owners["account"])
            & (named["related_ref"] == owners["ref"])).fill_null(False).all():
        return False
    # a repeated ref (or two whose hashes collide): the join keeps the first
    return _refs_unique(owners["ref"]) \
        or owners.select(_ref_key("ref").n_unique()).item() == owners.height


def _refs_increase(refs: pl.Series) -> bool:
    """Whether `refs` (no nulls) strictly increase: then none repeats, whatever the account,
    proven by comparing neighbours (a fifth of hashing a year's refs and counting them); an
    export numbering its rows in order (PayPal's) does. Refs out of order in their first
    1,024 (Upwork's) fail on that prefix's sortedness check; others are compared once (no
    sortedness check of them all first: a third of the comparison on a year's refs)."""
    return refs.slice(0, 1024).is_sorted() \
        and bool((refs.slice(1) > refs.slice(0, len(refs) - 1)).all())


def _refs_unique(refs: pl.Series) -> bool:
    """Whether `refs` (no nulls) are unique by their order alone: strictly increasing
    (`_refs_increase`), or runs of strictly decreasing refs whose ranges do not overlap (an
    export listing each day's rows newest first, Upwork's: a year is 366 runs). Found by
    comparing neighbours and then only the runs' ends, a tenth of hashing a year's refs and
    counting them. False when not proven so (the caller counts them by hash): refs out of
    order in many places give up after one comparison of neighbours."""
    import polars as pl

    if _refs_increase(refs):
        return True
    n = len(refs)
    ends = (refs.slice(1) >= refs.slice(0, n - 1)).arg_true()  # where a falling run ends
    if len(ends) > n // 16 + 16:
        return False
    runs = pl.DataFrame({
        "high": refs.gather(pl.concat([pl.Series([0], dtype=ends.dtype), ends + 1])),
        "low": refs.gather(pl.concat([ends, pl.Series([n - 1], dtype=ends.dtype)]))}
    ).sort("low")
    # each run's refs lie in [low, high], distinct; no run's range reaches the next one's
    return bool((runs["high"].slice(0, runs.height - 1) < runs["low"].slice(1)).all())


def _ref_key(ref: str) -> pl.Expr:
    """A 64-bit hash of (account, `ref`) as `_key`, null where `ref` is (it names nothing)."""
    import polars as pl

    return pl.when(pl.col(ref).is_not_null()).then(
        pl.col(ref).hash() ^ (pl.col("account").hash() * 31)).alias("_key")


def _home(net: Decimal, later: Decimal, currency: str) -> dict[str, str | None]:
    """payout_costs and net_home, each rounded once from exact figures."""
    from ledger.core.money import format_money, round_money

    cost = round_money(later, currency)
    return {"payout_costs": format_money(cost, currency),
            "net_home": format_money(round_money(net, currency) - cost, currency)}


def by_client(valued: pl.DataFrame, currency: str,
              client_hours: dict[str, float] | None = None,
              payout_costs: dict[str, Decimal] | None = None, *,
              clients: pl.DataFrame | None = None) -> list[dict]:
    """Per client: gross, the fees charged on their work (by counterparty or related_ref), net,
    paid hours (platform-billed, else from timesheets or ledger.toml: `hours.combine`), and
    the payout costs charged back to their money (ledger.attribution). `clients`:
    `client_sums` of `valued`, when the caller has it (by_platform reads it too)."""
    import polars as pl

    from ledger.core.money import format_money

    earned = pl.col("kind").is_in(["earning", "refund"])
    fee = pl.col("kind").is_in(["platform_fee", "payment_fee", "tax"])
    named = pl.col("related_ref").is_not_null()
    # the earnings that own fees, the fees naming a ref and the others: each row's part
    # found in one pass, then each column taken out once (no copy of all the fees to split)
    part = valued.select(
        (earned & pl.col("ref").is_not_null() & pl.col("counterparty").is_not_null()
         ).alias("owner"), (fee & named).alias("named"), (fee & ~named).alias("unnamed"))
    owners = valued.select("account", "ref", "counterparty").filter(part["owner"])
    named_fees = valued.select("account", "related_ref", "value").filter(part["named"])
    unnamed = valued.select("counterparty", "value").filter(part["unnamed"])
    if clients is None:
        clients = client_sums(valued).collect(engine="in-memory")
    gross = clients.lazy().group_by(pl.col("counterparty").alias("client")).agg(
        pl.col("value").sum().alias("gross"), pl.col("hours").sum().alias("hours"))
    fees = _fee_clients(owners, named_fees, unnamed,
                        lambda: valued.get_column("counterparty").filter(part["named"]))
    charged = fees.lazy().group_by("client").agg(
        (-pl.col("value").sum()).alias("fees")).filter(pl.col("client").is_not_null())
    joined = gross.join(charged, on="client", how="full", coalesce=True).sort(
        "gross", "client", descending=[True, False], nulls_last=True  # equal gross: by name
    ).collect(engine=engine_for(fees.height))  # a group_by of every fee
    later = payout_costs or {}
    found = [(row["client"], Decimal(row["gross"] or 0), Decimal(row["fees"] or 0),
              row["hours"]) for row in joined.iter_rows(named=True)]
    seen = {client for client, *_ in found}
    found += [(c, Decimal(0), Decimal(0), None) for c in sorted(later) if c not in seen]
    out = []
    for client, g, f, billed in found:
        worked = (client_hours or {}).get(client, billed or 0)
        item = {"client": client, "gross": format_money(g, currency),
                "fees": format_money(f, currency), "net": format_money(g - f, currency),
                "hours": f"{_hours(worked):.2f}",
                "net_hourly": _per_hour(g - f, worked, currency)}
        out.append(item | _home(g - f, later.get(client, Decimal(0)), currency))
    return out


def _platform_hours_plans(valued: pl.DataFrame, clients: pl.DataFrame, platform: pl.Expr
                          ) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """What `_platform_hours` reads: the hours of earnings without a client per platform, and
    each client's home platform (the one that carried most of their gross; `clients`:
    `client_sums`). Plans."""
    import polars as pl

    earning = pl.col("kind") == "earning"
    unbilled = valued.lazy().filter(earning & pl.col("counterparty").is_null()).select(
        "source", "hours").with_columns(platform).group_by("platform").agg(
        pl.col("hours").sum())
    home = (clients.lazy().filter(earning).select("counterparty", "source", "value")
            .with_columns(platform).group_by("counterparty", "platform")
            .agg(pl.col("value").sum())
            .sort("value", "platform", descending=[True, False])
            .unique("counterparty", keep="first", maintain_order=True))
    return unbilled, home


def _platform_hours(unbilled: pl.DataFrame, home: pl.DataFrame,
                    client_hours: dict[str, float]) -> dict[str, float]:
    """Hours per platform: the unbilled hours of `_platform_hours_plans` plus each client's
    hours (`client_hours`) on their home platform."""
    hours = {p: float(h or 0) for p, h in unbilled.iter_rows()}
    for client, platform, _ in home.iter_rows():
        hours[platform] = hours.get(platform, 0.0) + client_hours.get(client, 0.0)
    return hours


def _platform_expr(rows: pl.DataFrame) -> pl.Expr:
    """`platform`, the provider part of `source` (ledger.providers.platform), worked out once
    per distinct source name of `rows` (a few sums) rather than split out of every row."""
    import polars as pl

    names = rows["source"].unique()
    platforms = pl.select(source_platform(pl.lit(names))).to_series()
    return pl.col("source").replace(names, platforms).alias("platform")


def _per_hour(net: Decimal, worked: object, currency: str) -> str | None:
    from ledger.core.money import format_money

    worked_hours = _hours(worked or 0)
    return format_money(net / worked_hours, currency) if worked_hours else None


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


def _ratio(part: Decimal, whole: Decimal) -> str | None:
    return f"{(part / whole):.4f}" if whole else None


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
    """Ledger rows, filtered; every row keeps its file line and import id."""
    import polars as pl

    from ledger.core.schema import KINDS

    rows = ledger.rows()
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
