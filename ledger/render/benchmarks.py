"""`ledger benchmarks`: the local income benchmarks of a country as a table, each with its
source; the console is passed in."""

from __future__ import annotations


def print_benchmarks(rows: list[dict], console) -> None:
    """One line per benchmark and year; source and note are dropped first on a narrow
    terminal (the amounts never)."""
    from ledger.render.fit import Code, Col, F, fit_table

    console.print(fit_table(
        [Code("Benchmark"), F("Year", justify="left"), F("Amount"),
         Code("Per"), Col("Source", min_width=16, drop=1),
         Col("Note", min_width=12, drop=2)],
        [[r["benchmark"], str(r["year"]), f"{r['amount']} {r['currency']}", r["period"],
          f"{r['source_title']} {r['source_url']}", r["note"] or ""] for r in rows]))
