"""Sub-worker payouts (docs/payouts.md): split rules, what each worker is owed, what was paid,
balances, the value chain, and a statement a worker can check.

Split rules live in ledger.toml:

    [[workers]]
    name = "Ali"                       # how statements and `ledger payouts record` name them
    currency = "PKR"                   # what they are paid in (default: home_currency, else USD)
    aliases = ["Ali Khan", "0300-1234567"]   # names/accounts as bank and wallet exports show them
    show_contract = false              # statements show contract titles, not only job numbers

    [[splits]]
    id = "ali-logos"                   # optional; messages say `split #N` without one
    worker = "Ali"
    platform = "upwork"                # selectors, all optional, globs, case-insensitive:
    client = "Acme*"                   #   platform (the row's source), client (counterparty),
    contract = "*logo*"                #   contract (the contract column, else the description,
    category = "fixed_price"           #   where Upwork puts the job title), category
    from = 2024-01-01                  # first day it applies; `until` is the first day it no
    until = 2025-01-01                 #   longer does (as in the fee schedules)
    percent_of_gross = "10"            # exactly one share: see below
    fx = "earning"                     # worker-currency value at the rate of the earning date
                                       #   (default) or "payout": of the payment that settled it

Shares: `percent_of_gross = "10"`; `percent_of_net = "50"` (net of the fees the rules know: the
report's counted rows, so fees the fee rules derive count); `per_job = "7.50"` (each earning
row claimed, e.g. a milestone, is a job); `per_unit = "12"` with `unit = "hour"` (units from the
rows' billed hours, to the minute) or any other unit (`audio_hour`, `item`, `word`: from
`units.csv` in the ledger directory: `date,contract,worker,unit,quantity`; `[payouts] units =
"FILE"` names another file); `equal_share = true` with `workers = [...]`, split equally among
them and you (`include_self = false` leaves you out; `basis = "net"` (default) or `"gross"`).
Fixed amounts are in `currency` (default: the worker's currency). Rules that claim the same
earning must each have an `order`: all of them apply, lowest first, except that a rule with
`final = true` keeps later ones off the earnings it claims. Shares of one earning may not add up
to more than 100%. A bad rule is a UsageError naming ledger.toml and the rule (exit 2).

Paid: rows of kind `subcontractor_payout` (importers tag some, e.g. Freelancer.com's payments to
people you hired) and outgoing transfers, `other` and `expense` rows whose counterparty is one
of a worker's aliases (or name), else whose description names an alias as a whole word: each
payment says which (`matched_by`). Cash and mobile-wallet payments with no export are recorded
with `ledger payouts record` in `payouts.csv` (origin `manual`). In the report, these rows count
as `subcontractor_payouts` (what was paid), and `payouts_owed_unpaid` is what the rules say is
owed and was not yet paid at the end of the period (the sum of the workers' positive balances;
an advance to one worker is not netted against what another is owed).

Money is Decimal throughout (polars Decimal, WORK decimal places for shares and conversions);
rounding happens only when presenting. Per contract, margin = gross - platform - payment costs -
taxes - owed to sub-workers, exactly, so owed + margin + costs = gross.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger.core.errors import DataError
from ledger.payouts.as_json import as_json
from ledger.payouts.owed import (
    claimable,
    match_payments,
    owed_items,
    payments,
    read_units,
    reclassify,
    unpaid_units,
)
from ledger.payouts.record import manual_rows
from ledger.payouts.rules import (
    SCHEMA,
    WORK,
    Rules,
    Split,
    Worker,
    files,
    frame_sum,
    load_rules,
    num,
)
from ledger.payouts.value import (
    Summary,
    add_detail,
    contract_table,
    value_chain,
    value_items,
    value_paid,
    with_value,
    worker_balances,
)

if TYPE_CHECKING:
    import polars as pl

    from ledger.core.periods import Period
    from ledger.store.directory import Ledger

__all__ = ["SCHEMA", "WORK", "Rules", "Split", "Summary", "Worker", "as_json", "claimable",
           "compute", "contract_table", "files", "for_report", "history", "load_rules",
           "match_payments", "owed_items", "payments", "read_units", "reclassify", "summarize",
           "value_chain"]


# --- the whole picture -----------------------------------------------------------------------


def history(ledger: Ledger, rows: pl.DataFrame, end: dt.date, chain: Any = None,
            journeys: Any = None) -> pl.DataFrame:
    """The ledger's rows from the first to `end` counted as the report counts them
    (ledger.counting: reconcile's matches over that span, then the fee rules; the matches
    only, not the span's chains: counting.history), so what
    workers are owed and the contracts' costs agree with the report's figures. `journeys`:
    reconcile's result the caller has for the same `rows` (the report's), reused where it
    read the same rows (reconcile.matches_for: a year's report reconciles once)."""
    from ledger import reconcile
    from ledger.counting import pipeline as counting

    if rows.is_empty():
        return rows
    first = rows["date"].min()
    if first > end:
        return rows.clear()
    if journeys is not None:
        journeys = reconcile.matches_for(journeys, rows, (first, end))
    return counting.history(ledger, rows, (first, end), chain=chain, journeys=journeys)


def summarize(ledger: Ledger, period: Period | None = None, currency: str | None = None, *,
              online: bool = False, chain: Any = None, rows: pl.DataFrame | None = None,
              detail: bool = True, journeys: Any = None, workers_only: bool = False,
              counted: pl.DataFrame | None = None, **period_options: Any) -> Summary:
    """Owed (split rules), paid (ledger rows and payouts.csv) and balances per worker in their
    currency for a period with what earlier periods carried forward; with `detail`, per
    contract gross, costs, owed and margin and the value chain in the report currency.
    `journeys`: reconcile's result for `rows` the caller has (`history`). `workers_only`: the
    caller shows nothing without [[workers]] (the people's table), so then the summary is
    empty and the history is not counted (no reconcile, no fee rules: most of the time);
    the rules, payouts.csv, the period and the currency are still checked. `counted`: the
    history the caller counted already (ledger.counting.pipeline.with_history: the report
    counts the ledger once), else counted here."""
    import polars as pl

    from ledger.core.periods import report_currency, resolve_period
    from rules.fx import FxChain

    rules = load_rules(ledger)
    rows = ledger.rows() if rows is None else rows
    manual = manual_rows(rules)
    if period is None:
        every_date = pl.concat([rows.select("date"), manual.select("date")])
        if every_date.is_empty():
            raise DataError("the ledger is empty", path=ledger.root,
                            hint="import exports first: ledger import FILE")
        period = resolve_period(every_date, **period_options)
    currency = report_currency(ledger, currency)
    if workers_only and not rules.configured:
        return _no_workers(rules, period, currency)
    entry = None
    if chain is None and counted is None and journeys is None and not online:
        # kept between commands (ledger.counting.kept): a pure function of what it is keyed on
        from ledger.counting.kept import Entry

        entry = Entry.of(ledger, rows, None, "payouts", (period.start, period.end),
                         today=False, extra=(repr(period), currency, str(detail)),
                         files=(rules.payouts_path, rules.units_path))
        kept = entry.load() if entry is not None else None
        if kept is not None:
            return kept[0]
    chain = chain or FxChain.for_ledger(rows, ledger.rates_path, online=online)
    if counted is None and detail and journeys is None and rows.height:
        # the period's reconcile (what the report charges its payout costs with) and the
        # history, counted once as the report counts them (counting.with_history)
        from ledger.counting import pipeline as counting

        found, counted = counting.with_history(ledger, rows, (period.start, period.end),
                                               chain=chain)
        journeys = found.journeys
    if counted is None:
        counted = history(ledger, rows, period.end, chain, journeys)
    summary = compute(rules, counted, period, currency, chain,
                      manual=manual, units=read_units(rules), detail=detail,
                      where=str(ledger.rates_path), journeys=journeys, stored=rows)
    if entry is not None:
        entry.keep((summary,))
    return summary


def compute(rules: Rules, counted: pl.DataFrame, period: Period, currency: str, chain: Any, *,
            manual: pl.DataFrame | None = None, units: pl.DataFrame | None = None,
            detail: bool = True, where: str = "rates.csv", journeys: Any = None,
            stored: pl.DataFrame | None = None) -> Summary:
    """`summarize` on given rows: `counted` is the history as the report counts it (fee rules
    applied), `manual` payouts.csv rows, `units` units.csv; rows after the period are left
    out; `where` names the rates file in messages about a missing rate. `journeys`
    (reconcile's result for the period) and `stored` (the ledger's rows): the contracts then
    carry the withdrawal costs the report's By client charges them (value.add_detail)."""
    import polars as pl

    counted = _until(counted, period.end)
    with_manual = counted
    if manual is not None and manual.height:
        manual_now = _until(manual, period.end)
        with_manual = pl.concat([counted, manual_now.select(counted.columns)])
    if units is not None:
        units = _until(units, period.end)
    untimed: list[str] = []
    items = owed_items(rules, counted, units, warnings=untimed, since=period.start)
    paid = payments(with_manual, rules)
    warnings = _payment_warnings(paid) + untimed
    if units is not None:
        warnings += unpaid_units(units, items, rules, period.start)
    # the FX chain's warnings about the rates a worker's lines are valued at (one far from
    # the day, a coarse one): a statement line at such a rate is no silent guess
    fx_warnings: list[str] = []
    items = value_items(items, paid, rules, chain, period.end, where, fx_warnings)
    paid_valued = value_paid(paid.filter(pl.col("worker").is_not_null()), rules, chain, where,
                             fx_warnings)
    warnings += fx_warnings
    balances = worker_balances(rules, items, paid_valued, period)
    summary = Summary(rules, period, currency, items, paid_valued, balances, warnings=warnings)
    if detail:
        add_detail(summary, with_manual.filter(pl.col("date") >= period.start), chain, where,
                   counted, journeys=journeys, stored=stored)
    return summary


def _until(frame: pl.DataFrame, end: dt.date) -> pl.DataFrame:
    """`frame`'s rows up to `end`: the frame itself when none is later (a Series maximum, no
    polars plan: the report's history ends with the period already)."""
    import polars as pl

    last = frame["date"].max()
    if last is None or last <= end:  # type: ignore[operator]
        return frame
    return frame.filter(pl.col("date") <= end)


def _no_workers(rules: Rules, period: Period, currency: str) -> Summary:
    """What `summarize` has to show without [[workers]] to a reader of the workers' table:
    nobody, nothing owed or paid (the payments and contracts are not looked for)."""
    from ledger.core import schema

    empty = schema.empty()
    return Summary(rules, period, currency, empty, empty, [])


def _payment_warnings(paid: pl.DataFrame) -> list[str]:
    import polars as pl

    out = []
    for how, text in (("unknown", "names no known worker"),
                      ("ambiguous", "names more than one worker")):
        if not paid["matched_by"].eq(how).any():  # a Series test: a plan only for a warning
            continue
        odd = paid.filter(pl.col("matched_by") == how)
        if odd.height:
            row = odd.row(0, named=True)
            out.append(f"{odd.height} payout row(s) {text} (first: {row['date']} "
                       f"{num(Decimal(row['paid']))} {row['currency']}, {row['source']} line "
                       f"{row['line']}); add the payee to one worker's aliases in ledger.toml")
    return out


def for_report(ledger: Ledger, rows: pl.DataFrame, counted: pl.DataFrame, period: Period,
               currency: str, chain: Any, journeys: Any = None,
               past: pl.DataFrame | None = None
               ) -> tuple[pl.DataFrame, str | None, list[dict]]:
    """The report's hook: its counted rows with payments to workers as `subcontractor_payout`
    and payouts.csv added; what is owed to workers and unpaid at the end of the period, in
    the report currency (None when ledger.toml has no [[workers]]); and each contract's value
    chain (ledger.value_chain; [] without workers). `journeys`: the report's reconcile
    result, which the history reuses where it can (`history`); `past`: the history counted
    already (ledger.counting.pipeline.with_history), which is then not counted again."""
    import polars as pl

    from ledger.core.money import format_money
    from ledger.payouts.value_chain import per_contract

    rules = load_rules(ledger)
    if not rules.configured:
        return counted, None, []
    manual = manual_rows(rules).filter(pl.col("date").is_between(period.start, period.end))
    counted = reclassify(counted, rules)
    if manual.height:
        counted = pl.concat([counted, manual.select(counted.columns)]).sort(
            "date", maintain_order=True)
    summary = summarize(ledger, period, currency, chain=chain, rows=rows, journeys=journeys,
                        counted=past)
    chains = per_contract(summary.contracts, currency)
    owing = [b for b in summary.balances if b["closing"] > 0]
    if not owing:
        return counted, format_money(Decimal(0), currency), chains
    # amounts as text, cast: a Python Decimal handed to polars imports numpy
    frame = pl.DataFrame({"date": [period.end] * len(owing),
                          "currency": [b["currency"] for b in owing],
                          "amount": [format(b["closing"], "f") for b in owing],
                          "source": ["payouts"] * len(owing), "line": [0] * len(owing)},
                         schema={"date": pl.Date, "currency": pl.String,
                                 "amount": pl.String, "source": pl.String,
                                 "line": pl.Int64}).with_columns(
        pl.col("amount").cast(pl.Decimal(38, WORK)))
    valued = with_value(frame, currency, chain, str(ledger.rates_path))
    return counted, format_money(frame_sum(valued), currency), chains
