"""Anonymity for research panels: the key, pseudonyms, bands and k-suppression.

- The key is 32 random bytes in a file the researcher keeps OUTSIDE the output folder
  (`--key-file`, default ./batch.key): a key inside it would let anyone who receives the panel
  re-compute pseudonyms from guessed worker ids.
- A worker's pseudonym is HMAC-SHA256(key, worker id), the first 16 hex digits; a file's is
  HMAC-SHA256(key, worker id NUL relative path). Same key, same pseudonyms, across runs.
- Error messages can quote what a file holds (a bad value, a first line): errors.csv gets an
  error class and our own words for it instead (ledger/batch/errors.py).
- `--bands` replaces amounts by the lower edge of a 1-2-5 band, ratios by steps of 0.25 (a
  net's ratio to a benchmark from the banded net: `OF_BANDED`), cost rates by steps of 0.05
  and hours by steps of 10.
- Aggregate cells with fewer than k workers are suppressed (`suppress`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

KEY_BYTES = 32
PSEUDONYM_HEX = 16
FILE_HEX = 12
KNOWN_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".xlsx", ".xls", ".xml", ".ofx", ".qfx",
                            ".sta", ".mt940", ".json", ".toml"})
"""File suffixes kept on a file pseudonym (any other suffix could itself be a name)."""


def refuse_inside(path: Path, out: Path, what: str, hint: str) -> None:
    """A private file (the key, the map) may not be inside the output folder that is shared."""
    target = path.expanduser().resolve()
    folder = out.expanduser().resolve()
    if target == folder or target.is_relative_to(folder):
        raise UsageError(f"the {what} is inside the output folder", path=path, hint=hint)


def check_key_path(key_file: Path, out: Path) -> None:
    """Refuse a key inside the output folder: whoever gets the panel must not get the key."""
    refuse_inside(key_file, out, "key file", "keep the key outside --out, e.g. --key-file "
                  "./batch.key next to it: anyone with the panel and the key could test guessed "
                  "worker ids")


def load_key(key_file: Path) -> tuple[bytes, bool]:
    """(key, created): the key in `key_file`, or 32 fresh random bytes written there (0600)."""
    path = key_file.expanduser()
    if path.exists():
        if path.is_dir():
            raise UsageError("the key file is a directory", path=key_file,
                             hint="give a file path, e.g. --key-file ./batch.key")
        if not path.is_file():  # a FIFO would block the read forever, /dev/zero never end
            raise UsageError("the key file is not a regular file (a pipe, device or socket)",
                             path=key_file, hint="give a file path, e.g. --key-file ./batch.key")
        with path.open("rb") as handle:
            data = handle.read(KEY_BYTES + 1)
        if len(data) != KEY_BYTES:
            size = path.stat().st_size
            raise UsageError(f"not a batch key: {size} bytes, expected {KEY_BYTES}",
                             path=key_file,
                             hint="give the key file an earlier run created, or a new path to "
                             "create one (pseudonyms then differ from earlier runs)")
        if not any(data):
            raise UsageError("not a batch key: every byte is zero", path=key_file,
                             hint="a key must be random: give a new path to create one (or the "
                             "key an earlier run created)")
        return data, False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another run created it meanwhile: use that one
        return load_key(key_file)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key, True


def pseudonym(key: bytes, worker_id: str) -> str:
    return hmac.new(key, worker_id.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def file_pseudonym(key: bytes, worker_id: str, relative: str) -> str:
    """`f-<12 hex>.csv`: a keyed name for a worker's file (the suffix kept if a common one)."""
    digest = hmac.new(key, f"{worker_id}\x00{relative}".encode(), hashlib.sha256)
    suffix = Path(relative).suffix.lower()
    return f"f-{digest.hexdigest()[:FILE_HEX]}" + (suffix if suffix in KNOWN_SUFFIXES else "")


# --- bands ---------------------------------------------------------------------------------

MONEY_EDGES = tuple(Decimal(m) * Decimal(10) ** e for e in range(0, 10) for m in (1, 2, 5))
"""Band edges for amounts: 1, 2, 5, 10, 20, 50, ... 5e9 (any currency)."""
BAND_STEPS = {"ratio": Decimal("0.25"), "rate": Decimal("0.05")}
HOURS_STEP = 10.0

BANDS_TEXT = ("each amount is replaced by the lower edge of its band (edges 1, 2, 5, 10, 20, "
              "50, ... in the column's currency; amounts below 1 become 0; negative amounts "
              "mirror positive ones), ratios by multiples of 0.25 (a net's ratio to a "
              "benchmark is worked out from the banded net, so with the benchmark it tells "
              "no more than the band) and effective cost rates by "
              "multiples of 0.05 (rounded towards zero), hours by multiples of 10 (rounded "
              "down). Trajectories are classified from the exact figures before banding.")


def band_money(expr: pl.Expr) -> pl.Expr:
    """The lower edge of the 1-2-5 band holding |x|, with x's sign (exact decimals)."""
    import polars as pl

    magnitude = expr.abs()
    edge: pl.Expr = pl.lit(Decimal(0))
    for value in MONEY_EDGES:
        edge = pl.when(magnitude >= value).then(pl.lit(value)).otherwise(edge)
    return pl.when(expr < 0).then(-edge).otherwise(edge)


def band_step(expr: pl.Expr, step: Decimal) -> pl.Expr:
    """x rounded towards zero to a multiple of `step`."""
    import polars as pl

    scaled = (expr / step).cast(pl.Decimal(38, 12))
    whole = pl.when(scaled >= 0).then(scaled.floor()).otherwise(-(-scaled).floor())
    return whole * step


OF_BANDED = {"net_vs_per_capita": ("net_usd", "per_capita_usd"),
             "net_vs_min_wage": ("net_local", "min_wage_local")}
"""Ratios of a banded amount to a figure the panel shows exactly (a country's benchmark, public
anyway): banded on their own, their 0.25 steps times that figure pinned the amount far inside
its band (a net of 691-724 USD where its band says 500-1,000). They are worked out from the
banded amount instead, so they tell nothing the band does not."""


def apply_bands(panel: pl.DataFrame) -> pl.DataFrame:
    """Coarsen the panel's banded columns (see `batch_columns.PANEL`); types unchanged."""
    import polars as pl

    from ledger.batch.columns import PANEL, polars_type
    from ledger.batch.months import per

    wide = pl.Decimal(38, 12)
    exprs = []
    for column in PANEL:
        if column.band is None or column.name not in panel.columns:
            continue
        value = pl.col(column.name)
        amount, published = OF_BANDED.get(column.name, ("", ""))
        if {amount, published} <= set(panel.columns):
            banded = band_step(per(band_money(pl.col(amount)), pl.col(published), 12, wide),
                               BAND_STEPS["ratio"])
        elif column.band == "money":
            banded = band_money(value)
        elif column.band == "hours":
            banded = (value / HOURS_STEP).floor() * HOURS_STEP
        else:
            banded = band_step(value, BAND_STEPS[column.band])
        # a missing figure (no hours: no hourly pay) stays missing, never the lowest band (0)
        exprs.append(pl.when(value.is_not_null()).then(banded).cast(polars_type(column))
                     .alias(column.name))
    return panel.with_columns(exprs)


# --- k-suppression ---------------------------------------------------------------------------


def suppress(cells: pl.DataFrame, k: int, figures: list[str],
             group: list[str] | None = None) -> pl.DataFrame:
    """Blank `workers` and `figures` where `workers` < k, marking `suppressed` = "yes".

    With `group` (cells that add up to a published total, e.g. a country's trajectories):
    where exactly one cell of a group is suppressed, the next smallest is suppressed too, so
    the hidden count cannot be had by subtraction from the total."""
    import polars as pl

    small = pl.col("workers") < k
    if group:
        cells = cells.with_columns(small.alias("_small"),
                                   pl.int_range(pl.len()).over(group).alias("_pos"))
        big = ~pl.col("_small")
        lone = (pl.col("_small").sum().over(group) == 1) & (pl.len().over(group) > 1)
        target = pl.col("_pos").filter(big).sort_by(pl.col("workers").filter(big)).first()
        second = lone & (pl.col("_pos") == target.over(group))
        cells = cells.with_columns((pl.col("_small") | second.fill_null(False)).alias("_hide")
                                   ).drop("_small", "_pos")
    else:
        cells = cells.with_columns(small.alias("_hide"))
    hide = pl.col("_hide")
    return cells.with_columns(
        *[pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in ["workers", *figures]],
        pl.when(hide).then(pl.lit("yes")).otherwise(pl.lit("")).alias("suppressed"),
    ).drop("_hide")
