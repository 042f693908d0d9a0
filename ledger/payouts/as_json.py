"""The `ledger.payouts/1` document: a Summary as plain JSON-ready data, money as decimal
strings rounded once to each currency (the value chain's rounded lines still foot to gross)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.payouts.rules import SCHEMA

if TYPE_CHECKING:
    from ledger.payouts.value import Summary


def as_json(summary: Summary) -> dict:
    """The `ledger.payouts/1` document: money as decimal strings rounded to the currency."""
    import polars as pl

    from ledger.core.money import footed, format_money, round_money
    from ledger.payouts.value_chain import per_contract, shown_contracts

    cur = summary.currency
    period = summary.period
    workers = [{"worker": b["worker"], "currency": b["currency"], "fx": b["fx"],
                **{k: format_money(b[k], b["currency"])
                   for k in ("opening", "owed", "paid", "closing")}}
               for b in summary.balances]
    contracts = [{"contract": c["contract"],
                  **{k: format_money(c[k], cur) for k in ("gross", "platform", "payment",
                                                          "taxes", "owed", "margin")}}
                 for c in shown_contracts(summary.contracts, cur)]
    chain = []
    if summary.chain:
        # each total rounded once, the sub-workers' together (as the contracts' owed column);
        # you kept what is left: the contracts' shown margins, added up
        gross = round_money(summary.chain[0]["gross"], cur)
        parts = summary.chain[:-1]
        shown = [round_money(p["amount"], cur) for p in parts if p["role"] != "sub-worker"]
        shown += footed([p["amount"] for p in parts if p["role"] == "sub-worker"], cur)
        shown.append(gross - sum(shown, Decimal(0)))  # rounded lines still foot to gross
        for part, amount in zip(summary.chain, shown, strict=True):
            chain.append({"party": part["party"], "role": part["role"],
                          "amount": format_money(amount, cur),
                          "share": f"{amount / gross:.4f}" if gross > 0 else None})
    in_period = summary.paid.filter(pl.col("date").is_between(period.start, period.end)) \
        if summary.paid.height else summary.paid
    pays = [{"date": r["date"].isoformat(), "worker": r["worker"],
             "amount": format_money(Decimal(r["paid"]), r["currency"]),
             "currency": r["currency"],
             "value": format_money(Decimal(r["value"]), r["worker_currency"]),
             "worker_currency": r["worker_currency"], "matched_by": r["matched_by"],
             "account": r["account"], "source": r["source"], "line": r["line"], "ref": r["ref"]}
            for r in in_period.iter_rows(named=True)]
    return {"schema": SCHEMA,
            "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                       "label": period.label},
            "currency": cur, "workers": workers, "contracts": contracts, "value_chain": chain,
            "value_chains": per_contract(summary.contracts, cur),
            "payments": pays,
            "rules": [{"split": s.label, "workers": list(s.workers), "share": s.describe(),
                       "order": s.order, "final": s.final, "fx": s.fx}
                      for s in summary.rules.splits],
            "warnings": summary.warnings}
