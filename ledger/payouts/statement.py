"""One worker's statement (`ledger payouts statement`): their jobs, payments and balance in
their currency, in a form they can check with a calculator.

Every figure on a line follows from the figures printed on it: the share or units and price
give the amount (shown exactly, every decimal digit, when it is not a whole number of cents or
is converted); times the exchange rate shown, rounded once half-even to the worker currency's
minor unit, gives what is owed or paid. Totals are the sums of the lines, and the balance is
brought forward + owed - paid, written out. Nothing about other workers or the contractor's
clients appears (docs/payouts.md: a worker sees only their own work). The document is plain
data; ledger.statement_render writes it as text, CSV or HTML.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.payouts.value import Summary

SCHEMA = "ledger.statement/2"


def exact(value: object, currency: str) -> str:
    """`value` with the currency's decimals when that is exact (75.00), else every digit it has
    (11.467): an intermediate is never rounded where a worker would recompute from it."""
    from ledger.core.money import round_money

    number = Decimal(value)  # type: ignore[arg-type]
    rounded = round_money(number, currency)
    if rounded == number:
        return f"{rounded:f}"
    return f"{number.normalize():f}"


def _hours(quantity: Decimal) -> str:
    minutes = int((quantity * 60).to_integral_value())
    return f"{minutes // 60}:{minutes % 60:02d}"


def _rate_used(row: dict, converted: bool) -> dict:
    """Where a line's exchange rate comes from: `rate_from`, the date of the rate used (the
    nearest the FX chain has to `rate_date`, the day valued at: a weekly rates.csv, a
    weekend), and `rate_source`, its provider (user: rates.csv; ecb, nbp: the bundled
    reference rates; implied: a conversion in the exports; a×b: crossed)."""
    if not converted:
        return {"rate_from": None, "rate_source": None}
    used = row.get("rate_date")
    return {"rate_from": used.isoformat() if used is not None else None,
            "rate_source": row.get("fx_provider")}


def statement(summary: Summary, worker: str, locale: str | None = None) -> dict:
    """The statement document (schema ledger.statement/2): jobs numbered per job (an earning
    or a units line) over the worker's whole history, so June's jobs go on from May's; money
    as plain decimal strings; `locale` (ledger.toml) is how text and HTML group digits."""
    import polars as pl

    from ledger.core.money import format_money

    person = summary.rules.worker(worker)
    cur = person.currency
    period = summary.period
    balance = next(b for b in summary.balances if b["worker"] == person.name)
    mine = summary.items.filter(pl.col("worker") == person.name).sort(
        "date", "line", maintain_order=True)
    numbers: dict[str, int] = {}
    for item in mine["item"].to_list():
        numbers.setdefault(item, len(numbers) + 1)
    jobs = []
    for r in mine.filter(pl.col("date").is_between(period.start, period.end)).iter_rows(
            named=True):
        label = f"Job {numbers[r['item']]}"
        if person.show_contract and r["title"]:
            label += f" · {r['title']}"
        converted = r["currency"] != cur
        job = {"date": r["date"].isoformat(), "job": label, "share": r["share"],
               "rule": r["rate"], "base": None, "quantity": None, "unit": r["unit"],
               "price": None, "amount": exact(r["amount"], r["currency"]),
               "currency": r["currency"],
               "rate": f"{Decimal(r['fx_rate']).normalize():f}" if converted else None,
               "rate_date": r["value_date"].isoformat() if converted else None,
               **_rate_used(r, converted),
               "owed": format_money(Decimal(r["value"]), cur)}
        if r["share"] in ("per_unit", "per_job"):
            quantity = Decimal(r["quantity"])
            job["quantity"] = _hours(quantity) if r["unit"] == "hour" else \
                f"{quantity.normalize():f}"
            job["price"] = r["rate"].split(" ")[0]
        else:
            job["base"] = exact(r["base"], r["currency"])
        jobs.append(job)
    paid = summary.paid.filter((pl.col("worker") == person.name)
                               & pl.col("date").is_between(period.start, period.end)) \
        if summary.paid.height else summary.paid
    pays = []
    for r in paid.sort("date", maintain_order=True).iter_rows(named=True):
        if r["origin"] == "manual":
            how = "cash / wallet (recorded)" + (f", ref {r['ref']}" if r["ref"] != r["id"]
                                                 else "")
        else:
            how = f"transfer from {r['account']}" + (f", ref {r['ref']}" if r["ref"] else "")
        converted = r["currency"] != cur
        pays.append({"date": r["date"].isoformat(), "how": how,
                     "amount": exact(r["paid"], r["currency"]), "currency": r["currency"],
                     "rate": f"{Decimal(r['fx_rate']).normalize():f}" if converted else None,
                     **_rate_used(r, converted),
                     "paid": format_money(Decimal(r["value"]), cur)})
    fx = sorted(set(mine["fx"].to_list())) if mine.height else []
    notes = ["Each line: the amount times the exchange rate shown, rounded once to the "
             f"{cur} unit (half to even); totals are the sums of the lines."]
    if "earning" in fx:
        notes.append(f"Amounts in other currencies are converted to {cur} at the rate of the "
                     "day they were earned.")
    if "payout" in fx:
        notes.append(f"Amounts in other currencies are converted to {cur} at the rate of the "
                     f"day of the payment that settled them; unpaid ones at the rate of "
                     f"{period.end} until paid.")
    if any(j["rate_from"] != j["rate_date"] for j in jobs):
        notes.append("Where that day has no rate, the nearest day's is used: each line shows "
                     "the date of its rate.")
    return {"schema": SCHEMA, "worker": person.name, "currency": cur, "locale": locale,
            "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                       "label": period.label},
            "opening": format_money(balance["opening"], cur),
            "owed": format_money(balance["owed"], cur),
            "paid": format_money(balance["paid"], cur),
            "closing": format_money(balance["closing"], cur),
            "jobs": jobs, "payments": pays, "notes": notes}
