"""What each hop of a payout route has cost *you*: measured from the transfers `ledger
reconcile` matched in your own ledger, for `ledger quote` to price a hop from experience
instead of from a published schedule (which, for Upwork's Direct to Local Bank spread, says
nothing).

Per hop (from place -> to place, sending currency -> arriving currency), over the last N
matched transfers: the median FX spread as a fraction of what was sent (against the reference
mid rate reconcile values the hop at), the median fees taken on the way (withdrawal and
wallet fees, in the sending currency), the median bank deductions and the median days in
transit, with the count and the dates of the first and last transfer counted. The chains are
reconcile's: no second matcher.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from statistics import median
from typing import TYPE_CHECKING

from ledger.core.errors import DataError

if TYPE_CHECKING:
    from ledger.reconcile import Hop
    from ledger.store.directory import Ledger

DEFAULT_LAST = 10
SPREAD = Decimal("0.000001")
"""A measured spread is kept to a ten-thousandth of a percent."""

def place(account: str) -> str | None:
    """The route place (rules.quote) an account is: upwork, payoneer, ..., bank."""
    from ledger.core.providers import BANK_FORMATS, CHANNELS, provider_of

    provider = provider_of(account)
    if provider in CHANNELS:
        return provider
    if account.startswith("bank:") or provider in BANK_FORMATS:
        return "bank"
    return None


def from_hops(hops: list[Hop], last: int = DEFAULT_LAST) -> dict[str, dict]:
    """Per hop key, the medians of its last `last` transfers (by the day they were sent)."""
    from ledger.core.money import round_money
    from rules.quote import history_key as key

    by_key: dict[str, list[Hop]] = {}
    for hop in hops:
        a, b = place(hop.out["out_account"]), place(hop.ins[0]["in_account"])
        if a is None or b is None or hop.sent_total <= 0:
            continue
        by_key.setdefault(key(a, b, hop.out["out_ccy"], hop.in_ccy), []).append(hop)
    out = {}
    for name, found in sorted(by_key.items()):
        found.sort(key=lambda h: (h.out["out_date"], h.out["out_id"]))
        used = found[-last:]
        converts = used[0].out["out_ccy"] != used[0].in_ccy
        days = [(max(i["in_date"] for i in h.ins) - h.out["out_date"]).days for h in used]
        out[name] = {
            "hop": name.split(" ")[0], "currency": used[0].out["out_ccy"],
            "to_currency": used[0].in_ccy, "count": len(used),
            "first": used[0].out["out_date"].isoformat(),
            "last": used[-1].out["out_date"].isoformat(),
            "spread": _median([h.costs["fx_spread"] / h.sent_total for h in used]
                              ).quantize(SPREAD) if converts else None,
            "fees": round_money(_median([h.costs["withdrawal_fee"] + h.costs["wallet_fees"]
                                         for h in used]), used[0].out["out_ccy"]),
            "deductions": round_money(_median([h.costs["bank_deductions"] for h in used]),
                                      used[0].out["out_ccy"]),
            "days": _median([Decimal(d) for d in days]),
            "transfers": [h.out["out_id"] for h in used]}
    return out


def _median(values: list[Decimal]) -> Decimal:
    return Decimal(median(values)) if values else Decimal(0)


def measured(ledger: Ledger, last: int = DEFAULT_LAST, *, until: dt.date | None = None,
             online: bool = False) -> dict[str, dict]:
    """The ledger's matched transfers (all of them, up to `until`) summarised per hop; {}
    for an empty ledger."""
    import polars as pl

    from ledger import reconcile

    rows = ledger.rows()
    if until is not None:
        rows = rows.filter(pl.col("date") <= until)
    if rows.is_empty():
        return {}
    period = (rows["date"].min(), rows["date"].max())
    try:
        result = reconcile.for_ledger(ledger, period, rows=rows, online=online,
                                      as_of=period[1])
    except DataError:  # e.g. a rate reconcile lacks: every hop falls back to the schedule,
        return {}      # and each quote line says "schedule"
    return from_hops(result.hops, last)
