"""`ledger benchmarks`: the local income benchmarks of a country as a table, each with its
source; the console is passed in."""

from __future__ import annotations


def print_benchmarks(rows: list[dict], console, locale: str | None = None) -> None:
    """One line per benchmark and year, its source cited by number and listed once below
    (ledger.render.sources); the note is left out first on a narrow terminal (the amounts
    never)."""
    from ledger.render.fit import Code, Col, F, fit_table
    from ledger.render.report import _money
    from ledger.render.sources import cite, numbered, print_sources

    def source(row: dict) -> tuple[str, str]:
        return row["source_title"], row["source_url"] or ""

    sources = numbered(source(r) for r in rows)
    table = fit_table(
        [Code("Benchmark"), F("Year", justify="left"), F("Amount"), Code("Per"),
         F("Source", justify="left"), Col("Note", min_width=30, drop=1)],
        [[r["benchmark"], str(r["year"]),
          f"{_money(_padded(r['amount'], r['currency']), locale)} {r['currency']}", r["period"],
          cite(sources, source(r)), r["note"] or ""]
         for r in rows])
    console.print(table)
    if 5 not in table.layout(console.width).shown:
        console.print("notes: --format json, or a wider table: ledger --width 160 benchmarks",
                      markup=False)
    print_sources(sources, console)


def _padded(amount: object, currency: str) -> str:
    """A figure with its currency's decimal places at least (1278.4 USD as 1,278.40), so the
    column's decimal points line up; never rounded: a figure's own digits are all kept."""
    from decimal import Decimal

    from ledger.core.money import minor_units

    value = Decimal(str(amount))
    places = minor_units(currency)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -places:
        value = value.quantize(Decimal(1).scaleb(-places))
    return str(value)
