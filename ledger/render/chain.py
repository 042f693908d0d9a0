"""The per-contract value chain as one rich table (`ledger payouts`, `ledger report`): a row
per contract, a column per step, each cell the amount and its share of what the client paid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def chains_table(chains: list[dict], title: str, locale: str | None = None) -> Any:
    """`locale` writes the digits and shares (ledger.toml's `locale`; None: 1,234.50)."""
    from ledger.core.money import group_for_reading, percent_for_reading
    from ledger.render.fit import Col, F, fit_table

    def _money(text: str) -> str:
        return group_for_reading(Decimal(text), locale)

    rows = []
    for chain in chains:
        cells = []
        for step in chain["steps"]:
            share = (percent_for_reading(Decimal(step["share"]), locale)
                     if step["share"] is not None else "")
            cells.append(_money(step["amount"]) + (f"\n{share}" if share else ""))
        rows.append([chain["contract"], *cells])
    columns = [Col("Contract", min_width=10), *(F(step["label"]) for step in chains[0]["steps"])]
    return fit_table(columns, rows, title=title)
