"""The user's own rates (rules.fx's `user` provider: `rates.csv` in the ledger directory, and
`online`: the cache of rates fetched with --online, in the same shape), read and checked, each
row's provenance its file and line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.errors import DataError
from rules.fx_reference import _table, plan_flags, rate_dtype

if TYPE_CHECKING:
    import polars as pl


def user_rates(path: Path, provider: str = "user") -> pl.DataFrame:
    """The user's rates file: `date,from,to,rate` (rate = units of `to` per 1 `from`).

    Read, it is kept in the user cache (rules/frame_cache.py) named by its bytes' size and
    CRC, its name, the provider and this module's text, and read back from there while the
    file is unchanged: parsing and checking even a few lines costs ~2-5 ms of every command
    that values money, reading them back ~0.3 ms. A file that fails its checks is not kept
    (its error is raised each time)."""
    from rules import frame_cache

    if not path.exists():
        return _table()
    kept = _kept(path, provider)
    if kept is not None:
        table = frame_cache.read(kept)
        if table is not None and table.schema == _table().schema:
            return table
    rates = _parsed(path, provider)
    if kept is not None and kept == _kept(path, provider):  # unchanged while it was read
        frame_cache.write(kept, rates)
    return rates


def _kept(path: Path, provider: str) -> Path | None:
    """Where the rates file's parsed table is kept (None when it cannot be read)."""
    import zlib

    from rules import frame_cache

    try:
        text = path.read_bytes()
        own = Path(__file__).read_bytes()
    except OSError:
        return None
    name = zlib.crc32(f"{provider}:{path.name}".encode())
    return frame_cache.folder("rates", f"{zlib.crc32(own):08x}") / \
        f"{len(text)}-{zlib.crc32(text):08x}-{name:08x}.arrow"


def _parsed(path: Path, provider: str) -> pl.DataFrame:
    """`user_rates` of a file, read and checked."""
    import polars as pl

    try:
        df = pl.read_csv(path, infer_schema=False, glob=False).with_row_index("_line", offset=2)
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"cannot read rates: {str(exc).splitlines()[0]}", path=path,
                        hint="the file needs the header date,from,to,rate") from None
    df = df.rename({c: c.strip().lower() for c in df.columns})
    missing = {"date", "from", "to", "rate"} - set(df.columns)
    if missing:
        raise DataError(f"rates file lacks column(s) {sorted(missing)}", path=path, line=1,
                        hint="the header must be date,from,to,rate "
                        "(e.g. 2024-06-03,USD,PKR,278.45)")
    blank = pl.all_horizontal(pl.col(c).fill_null("").str.strip_chars() == ""
                              for c in ("date", "from", "to", "rate"))
    out = df.lazy().filter(~blank).select(  # blank lines (editors, `echo >>`) are not rows
        pl.col("_line"),
        pl.col("date").str.strip_chars().str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        pl.col("from").str.strip_chars().str.to_uppercase(),
        pl.col("to").str.strip_chars().str.to_uppercase(),
        pl.when(pl.col("rate").str.strip_chars().str.contains(r"^\d+(\.\d+)?$"))
        .then(pl.col("rate").str.strip_chars()).cast(rate_dtype(), strict=False).alias("rate"),
        pl.col("date").alias("_raw_date"), pl.col("rate").alias("_raw_rate"),
    )
    bad = out.filter(pl.col("date").is_null() | pl.col("rate").is_null() | (pl.col("rate") == 0)
                     | ~pl.col("from").str.contains(r"^[A-Z]{3}$")
                     | ~pl.col("to").str.contains(r"^[A-Z]{3}$")).head(1)
    rates = out.select(
        "date", "from", "to", "rate", pl.lit(provider).alias("provider"),
        (pl.lit(f"{path.name}:") + pl.col("_line").cast(pl.String)).alias("detail"))
    bad, rates = pl.collect_all([bad, rates], engine="in-memory",  # one collect
                                optimizations=plan_flags(df.height))
    if bad.height:
        raise DataError(
            f"bad rate row (date {bad['_raw_date'][0]!r}, rate {bad['_raw_rate'][0]!r})",
            path=path, line=int(bad["_line"][0]),
            hint="each row is YYYY-MM-DD,FROM,TO,RATE with a positive rate, e.g. "
            "2024-06-03,USD,PKR,278.45")
    return rates
