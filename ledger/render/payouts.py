"""The payouts document as CSV (`ledger payouts --format csv`): the render layer's part of
payouts, so the library never imports the renderer."""

from __future__ import annotations


def as_csv(data: dict) -> str:
    """The payouts document as long rows: section,key,field,value."""
    from ledger.render.report import long_csv, long_items, safe_cell

    rows = [row for section, key in (("workers", "worker"), ("contracts", "contract"),
                                     ("value_chain", "party"))
            for row in long_items(section, data[section], key)]
    from ledger.payouts.value_chain import long_rows

    rows += [[section, safe_cell(key), name, value]
             for section, key, name, value in long_rows(data.get("value_chains") or [])]
    return long_csv(data, rows + long_items("payments", data["payments"]))
