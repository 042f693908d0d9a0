"""`ledger reconcile --format json` (schema ledger.reconcile/1): chains, hops and totals as
plain JSON-ready data, money as strings in each currency's minor unit; a chain's waterfall is
rounded so that it still foots as printed."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.reconcile.chains import HOP_COSTS

if TYPE_CHECKING:
    from ledger.reconcile import Result
    from ledger.reconcile.chains import Chain, Hop

SCHEMA = "ledger.reconcile/1"


def money(value: Decimal, currency: str) -> str:
    """`value` as a string in `currency`'s minor unit (ledger.core.money.format_money)."""
    from ledger.core.money import format_money

    return format_money(Decimal(value), currency)


def _footed(costs: dict[str, Decimal], sent: Decimal, currency: str) -> dict[str, Decimal]:
    """A waterfall rounded for display that still foots as printed: each cost rounded to the
    currency's minor unit, `arrived` what is left of the rounded `sent` (it absorbs rounding)."""
    from ledger.core.money import round_money

    lines = {k: round_money(Decimal(costs[k]), currency) for k in HOP_COSTS}
    lines["arrived"] = round_money(Decimal(sent), currency) - sum(lines.values(), Decimal(0))
    return lines


def hop_json(hop: Hop) -> dict:
    cur = hop.out["out_ccy"]
    received = sum((Decimal(i["received"]) for i in hop.ins), Decimal(0))
    last = max(i["in_date"] for i in hop.ins)
    diff = hop.out.get("diff")
    return {
        "from": hop.out["out_account"], "to": hop.ins[0]["in_account"],
        "out": hop.out["out_id"], "in": [i["in_id"] for i in hop.ins],
        "refs": {"out": hop.out.get("out_ref"), "in": [i.get("in_ref") for i in hop.ins]},
        "sent_on": hop.out["out_date"].isoformat(), "arrived_on": last.isoformat(),
        "currency": cur, "sent": money(hop.sent_total, cur),
        "received": {"amount": money(received, hop.in_ccy), "currency": hop.in_ccy},
        "rate": f"{hop.rate.normalize():f}" if hop.rate is not None else None,
        "rate_source": hop.rate_provider,
        "waterfall": {k: money(v, cur)
                      for k, v in _footed(hop.costs, hop.sent_total, cur).items()},
        "evidence": {"rule": hop.rule, "days": (last - hop.out["out_date"]).days,
                     "amount_diff": (money(Decimal(diff), hop.in_ccy)
                                     if diff is not None else None),
                     "fee_inside_transfer": hop.fee_inside},
        "confidence": hop.confidence,
    }


def chain_json(c: Chain) -> dict:
    cur = c.currency
    last = c.hops[-1]
    shown = _footed(c.costs, c.sent, cur)
    return {"id": c.id, "currency": cur, "sent": money(c.sent, cur),
            "costs": {k: money(shown[k], cur) for k in HOP_COSTS},
            "arrived": money(shown["arrived"], cur),
            "arrived_as": {"amount": money(last.landed, last.in_ccy),
                           "currency": last.in_ccy, "account": last.ins[0]["in_account"]},
            "possible_loss": money(c.possible_loss, cur) if c.possible_loss else None,
            "hops": [hop_json(h) for h in c.hops]}


def totals(result: Result) -> list[dict]:
    """Per sending currency: chains, sent, each cost line, arrived, in transit."""
    acc: dict[str, dict] = {}

    def slot(cur: str) -> dict:
        return acc.setdefault(cur, {"chains": 0, "sent": Decimal(0), "arrived": Decimal(0),
                                    "costs": dict.fromkeys(HOP_COSTS, Decimal(0)),
                                    "in_transit": Decimal(0), "in_transit_count": 0})

    for c in result.chains:  # the chains as shown, so that totals are their sums and foot
        s = slot(c.currency)
        shown = _footed(c.costs, c.sent, c.currency)
        s["chains"] += 1
        s["sent"] += c.sent
        s["arrived"] += shown["arrived"]
        for k in HOP_COSTS:
            s["costs"][k] += shown[k]
    for t in result.in_transit:
        s = slot(t["currency"])
        s["in_transit"] += Decimal(t["amount"])
        s["in_transit_count"] += 1
    out = []
    for cur, s in sorted(acc.items()):
        out.append({"currency": cur, "chains": s["chains"], "sent": money(s["sent"], cur),
                    "costs": {k: money(v, cur) for k, v in s["costs"].items()},
                    "total_costs": money(sum(s["costs"].values(), Decimal(0)), cur),
                    "arrived": money(s["arrived"], cur),
                    "in_transit": money(s["in_transit"], cur),
                    "in_transit_count": s["in_transit_count"]})
    return out


def to_json(result: Result) -> dict:
    def money_items(items: list[dict]) -> list[dict]:
        return [{**i, "amount": money(Decimal(i["amount"]), i["currency"])} for i in items]

    losses = [{"chain": c.id, "amount": money(c.possible_loss, c.currency),
               "currency": c.currency, "reason": "arrived short beyond the known costs"}
              for c in result.chains if c.possible_loss]
    losses += [{"id": t["id"], "amount": money(Decimal(t["amount"]), t["currency"]),
                "currency": t["currency"],
                "reason": f"not arrived after {t['age_days']} days (usually "
                f"{t['usual_days']})"} for t in result.in_transit if t["status"] == "overdue"]
    return {"schema": SCHEMA,
            "period": {"from": result.period[0].isoformat(), "to": result.period[1].isoformat()},
            "as_of": result.as_of.isoformat(),
            "chains": [chain_json(c) for c in result.chains],
            "totals": totals(result),
            "in_transit": money_items(result.in_transit),
            "unknown_origin": money_items(result.unknown_origin),
            "ambiguous": [{**a, "amount": money(Decimal(a["amount"]), a["currency"])}
                          for a in result.ambiguous],
            "possible_losses": losses,
            "window_days": result.settings.window_days,
            "warnings": result.warnings}
