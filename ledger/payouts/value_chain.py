"""The value chain of each contract: what the client paid, what the platform kept, what the
wallet, bank and FX took, taxes, what the sub-workers got and what you kept, with each step's
share of what the client paid (`ledger payouts` and `ledger report`, table and JSON).

From the payouts contract table (ledger.payouts.contract_table: exact Decimal in the report
currency), as shown (`shown_contracts`): each amount rounded once to the currency, each
column's lines adding up to its total rounded from the exact sum; "you kept" is what the
client paid minus the rounded steps shown, so every chain foots to the cent. The costs of
converting money and getting it home are the contracts' whose money it was (the contract
table: as the report's By client charges them); costs nothing ties to one earning are their
own line, so the lines add up to the period's totals.
"""

from __future__ import annotations

from decimal import Decimal

SCHEMA = "ledger.value-chain/1"
STEPS = (("client_paid", "Client paid"), ("platform", "Platform kept"),
         ("payment", "Wallet/bank/FX took"), ("taxes", "Taxes"),
         ("sub_workers", "Sub-workers got"), ("you_kept", "You kept"))
FROM = {"platform": "platform", "payment": "payment", "taxes": "taxes", "sub_workers": "owed"}


COLUMNS = ("gross", "platform", "payment", "taxes", "owed")
"""The contract table's amounts; its margin is what is left of gross."""


def shown_contracts(contracts: list[dict], currency: str) -> list[dict]:
    """The contract table (exact) as shown: each column rounded so that its lines add up to
    the column's total rounded from the exact sum (ledger.core.money.footed), and each
    line's margin its shown gross minus its shown costs, so the lines foot and add up to the
    value chain's totals to the cent. Decimal, rounded."""
    from ledger.core.money import footed

    columns = {k: footed([Decimal(c[k]) for c in contracts], currency) for k in COLUMNS}
    out = []
    for i, c in enumerate(contracts):
        line = {k: columns[k][i] for k in COLUMNS}
        margin = line["gross"] - sum((line[k] for k in COLUMNS[1:]), Decimal(0))
        out.append({**c, **line, "margin": margin})
    return out


def per_contract(contracts: list[dict], currency: str) -> list[dict]:
    """One chain per contract line (`contracts`: the contract table, exact; shown as
    `shown_contracts`): steps with amount (decimal string) and share of what the client paid
    (4 places; None when the client paid nothing on that line)."""
    from ledger.core.money import format_money

    out = []
    for c in shown_contracts(contracts, currency):
        gross = c["gross"]
        taken = {step: c[FROM[step]] for step in FROM}
        kept = c["margin"]
        amounts = {"client_paid": gross, **taken, "you_kept": kept}
        out.append({"contract": c["contract"], "currency": currency, "steps": [
            {"step": step, "label": label, "amount": format_money(amounts[step], currency),
             "share": f"{amounts[step] / gross:.4f}" if gross > 0 else None}
            for step, label in STEPS]})
    return out


def long_rows(chains: list[dict]) -> list[list]:
    """`section,key,field,value` rows (the report's and payouts' CSV): per contract, each
    step's amount and, as `STEP_share`, its share."""
    rows: list[list] = []
    for chain in chains:
        for step in chain["steps"]:
            rows.append(["value_chains", chain["contract"], step["step"], step["amount"]])
            rows.append(["value_chains", chain["contract"], f"{step['step']}_share",
                         step["share"] or ""])
    return rows
