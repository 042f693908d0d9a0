"""The canonical ledger: one row per money movement, signed from the freelancer's view.

`validate` runs after every parse and before every write, so a wrong column, type, kind or
currency is caught at the boundary with a message naming it, never deep inside a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ledger.core.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import polars as pl

Frame = TypeVar("Frame", "pl.DataFrame", "pl.LazyFrame")

KINDS: tuple[str, ...] = (
    "earning",
    "refund",
    "platform_fee",
    "payment_fee",
    "fx",
    "bank_fee",
    "tax",
    "transfer",
    "subcontractor_payout",
    "expense",
    "adjustment",
    "other",
)
"""What a row is. `transfer` and `fx` move the user's own money: neither income nor cost."""

REQUIRED = ("id", "date", "source", "account", "kind", "amount", "currency", "description",
            "origin", "import_id", "line")
"""Columns that may never be null."""

MAX_AMOUNT_DIGITS = 15
"""Amounts must be below 10**15 in absolute value. Reports convert with rates of up to
~10**5 (IRR per USD) in Decimal(38, 12), which holds 26 integer digits, and sum many rows:
an amount beyond this limit imports but then fails every report and export."""

ID_HEX = 32
"""Hex digits of sha256 kept for a row id (128 bits)."""

VERSION = 2
"""Version of the stored rows (ledger.parquet keeps it in its metadata, VERSION_MARK).
1: what a movement was worth in another currency and a fee inside an amount were only tags
in the description (`[delivered 278500.00 PKR]`, `[fee 6.00 USD included]`); 2: they are
the columns counter_amount, counter_currency and fee_included. A ledger of an older version
is refused with a pointer to `ledger rebuild`, which re-reads its archived exports."""
VERSION_MARK = "freelance_ledger.schema"
"""Parquet metadata key holding VERSION (absent: version 1)."""


def columns() -> dict[str, pl.DataType]:
    """Column name -> polars dtype, in the order rows are stored.

    What the export states besides the movement itself, set by the importers and read by the
    fee rules, FX and reconcile (never parsed back out of the description, where the same
    figures stay as tags for people to read):
    - `counter_amount`, `counter_currency`: the movement in another currency, unsigned: on a
      debit what it delivered (Payoneer's Transfer Amount, Wise's Exchange To Amount), on a
      credit what it cost the sender (Payoneer, Wise transaction history);
    - `fee_included`: a fee in the row's currency that `amount` already includes (a Wise
      statement made without "fees shown separately").
    """
    import polars as pl

    return {
        "id": pl.String(),
        "date": pl.Date(),
        "source": pl.String(),
        "account": pl.String(),
        "kind": pl.Enum(KINDS),
        "category": pl.String(),
        "amount": pl.Decimal(38, 4),
        "currency": pl.String(),
        "counterparty": pl.String(),
        "contract": pl.String(),
        "hours": pl.Float64(),
        "description": pl.String(),
        "ref": pl.String(),
        "related_ref": pl.String(),
        "counter_amount": pl.Decimal(38, 4),
        "counter_currency": pl.String(),
        "fee_included": pl.Decimal(38, 4),
        "origin": pl.String(),
        "import_id": pl.String(),
        "line": pl.Int64(),
    }


def empty() -> pl.DataFrame:
    """A ledger with no rows, every column typed."""
    import polars as pl

    return pl.DataFrame(schema=columns())


def conform(df: Frame) -> Frame:
    """Select the canonical columns in order, adding missing optional ones as nulls and casting.

    Casting is strict: a value that does not fit its type is an error, not a null. A LazyFrame
    stays lazy (a caller's plan is collected once).
    """
    import polars as pl

    out = []
    names = df.collect_schema().names()
    for name, dtype in columns().items():
        if name in names:
            out.append(pl.col(name).cast(dtype, strict=True))
        else:
            out.append(pl.lit(None, dtype=dtype).alias(name))
    return df.select(out)


def validate(df: pl.DataFrame, where: str, *, ids_known: bool = False) -> pl.DataFrame:
    """Check `df` is a canonical ledger; raise DataError naming the column and row if not.

    `where` says which boundary is checking (a file path, or 'ledger'), for the message.
    `ids_known`: the ids were proven distinct in these very rows already (ledger.store.checked:
    the file is the one a full check passed on), so that check, 0.1 s CPU of every command on
    a million rows, is not run again; every other check is (they cost a fifth of it).
    """
    import polars as pl

    from ledger.core.money import known_currencies

    expected = columns()
    missing = [c for c in expected if c not in df.columns]
    extra = [c for c in df.columns if c not in expected]
    if missing or extra:
        raise DataError(
            f"ledger rows have the wrong columns (missing {missing}, unexpected {extra})",
            path=where,
            hint="this is a bug in an importer: please report it with the file that caused it",
        )
    for name, dtype in expected.items():
        if df.schema[name] != dtype:
            raise DataError(
                f"column {name!r} is {df.schema[name]}, expected {dtype}", path=where,
                hint="this is a bug in an importer: please report it",
            )
    if df.is_empty():
        return df
    # one query for every check (a select each cost a pass and a plan each): the empty
    # cells, the currencies (a select, not df["currency"]: that would write out, and keep in
    # `df`, a currency column of one literal value, 15 MiB on a million rows held through
    # the write) and, unless known, whether the ids' 64-bit hashes are distinct
    found = df.select(
        *(pl.col(c).null_count() for c in REQUIRED),
        pl.col("currency").unique().implode().alias("_currencies"),
        *([] if ids_known else [pl.col("id").hash().n_unique().alias("_hashes")]),
    ).row(0)
    for name, count in zip(REQUIRED, found, strict=False):
        if count:
            nulls = df.filter(pl.col(name).is_null())
            raise DataError(f"column {name!r} is empty", path=where, line=_line(nulls),
                            hint="every row needs a value here; check the export is complete")
    unknown = sorted(set(found[len(REQUIRED)]) - known_currencies())
    if unknown:
        bad_currency = df.filter(pl.col("currency") == unknown[0])
        raise DataError(f"unknown currency {unknown[0]!r}", path=where, line=_line(bad_currency),
                        hint="currencies are ISO 4217 codes such as USD, PKR, PHP, INR")
    if not ids_known:
        _refuse_shared_ids(df, where, found[-1])
    return df


def check_ids(df: pl.DataFrame, where: str) -> pl.DataFrame:
    """Refuse rows of which two share an id (`validate`'s check of the ids, alone): what
    importers.registry.parse runs once on each file's rows, whatever parts its format made
    them from, so that no later step need hash the ids again (ledger.store.importing)."""
    import polars as pl

    if df.height:
        _refuse_shared_ids(df, where, df.select(pl.col("id").hash().n_unique()).item())
    return df


def _refuse_shared_ids(df: pl.DataFrame, where: str, hashes: int) -> None:
    """`hashes`: how many distinct 64-bit hashes the ids have. Distinct hashes prove
    distinct ids; only when two collide are the strings compared."""
    import polars as pl

    if hashes != df.height and df["id"].n_unique() != df.height:
        dupes = df.filter(pl.col("id").is_duplicated())
        raise DataError(f"two rows share the id {dupes['id'][0]}", path=where,
                        line=_line(dupes), hint="this is a bug in an importer: please report it")


def stored(df: pl.DataFrame, path: Path, *, ids_known: bool = False) -> pl.DataFrame:
    """Rows read back from the ledger file at `path`, conformed and validated; refused if
    another version wrote them (an older file lacks columns every figure now reads: they
    would read as empty, and the figures would be wrong without a word). `ids_known`: see
    `validate`."""
    import polars as pl

    mark = pl.read_parquet_metadata(path).get(VERSION_MARK)
    version = int(mark) if mark and mark.isdigit() else 1
    if version != VERSION:
        newer = version > VERSION
        raise DataError(
            f"the ledger was written by {'a newer' if newer else 'an older'} version of "
            f"freelance-ledger (rows version {version}, this one reads {VERSION})", path=path,
            hint="upgrade freelance-ledger to read it" if newer else "run `ledger rebuild` "
            "once: it re-reads the archived exports into this version")
    return validate(conform(df), str(path), ids_known=ids_known)


def marks(rows: pl.DataFrame) -> dict[str, str]:
    """The parquet metadata a file of canonical `rows` carries: their VERSION."""
    return {VERSION_MARK: str(VERSION)} if rows.columns == list(columns()) else {}


def stored_count(path: Path) -> int | None:
    """How many rows a ledger file holds, whatever its version; None if it cannot be read."""
    import polars as pl

    try:
        return pl.scan_parquet(path, glob=False).select(pl.len()).collect().item()
    except Exception:  # a damaged file
        return None


def check_amounts(df: pl.DataFrame, where: str) -> pl.DataFrame:
    """Refuse an amount too large for every later computation (see MAX_AMOUNT_DIGITS), at
    the import that brings it, with its line: once stored it would break every report."""
    from decimal import Decimal

    import polars as pl

    if amounts_fit(df):
        return df  # the usual answer, without filtering every column
    limit = Decimal(10) ** MAX_AMOUNT_DIGITS
    huge = df.filter(pl.col("amount").abs() >= limit)
    if huge.height:
        raise DataError(
            f"amount {huge['amount'][0].normalize():f} is too large: the ledger holds amounts "
            f"below {limit:,} (10^{MAX_AMOUNT_DIGITS})", path=where, line=_line(huge),
            hint="the value is misread or damaged; fix it in the file or download the export "
            "again")
    return df


def amounts_fit(df: pl.DataFrame) -> bool:
    """True where every `amount` of `df` is below 10^MAX_AMOUNT_DIGITS either way, so
    `check_amounts` refuses none: read from the extremes (comparing each Decimal with the
    limit cost 30x more)."""
    from decimal import Decimal

    import polars as pl

    limit = Decimal(10) ** MAX_AMOUNT_DIGITS
    amount = pl.col("amount")
    high, low = df.select(amount.max().alias("high"), amount.min().alias("low")).row(0)
    return (high is None or high < limit) and (low is None or low > -limit)


def _line(rows: pl.DataFrame) -> int | None:
    value = rows["line"][0] if "line" in rows.columns else None
    return int(value) if value is not None else None


@dataclass(frozen=True)
class Joined:
    """A row key given in its `parts`, joined by `separator` as `pl.concat_str` joins them
    (null where a part is): `with_ids` joins them straight into the text it hashes, after
    the source and account, in one pass. A key joined first is written out (a bank row's,
    ~100 characters) and then copied into that text: 0.05 s of CPU on a million rows."""

    parts: tuple[pl.Expr | str, ...]
    """Each an expression, or a text every row has (joined with its neighbours' and the
    separators into one literal piece: each piece joined costs a pass over the rows)."""
    separator: str
    distinct: bool = False
    """The keys are known to be distinct, none null (importers/bank_columns.row_key and
    importers.base.known_key prove it): the ids of one source and account are then distinct
    too (a sha256 collision aside), which `Parsed.ids_distinct` tells importers.registry.parse."""

    def expr(self) -> pl.Expr:
        """The key itself, as one string expression."""
        import polars as pl

        return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in self.parts],
                             separator=self.separator)

    def pieces(self, prefix: str = "") -> list[pl.Expr]:
        """`prefix` and the key as pieces to join with no separator, each run of texts and
        separators between two expressions one literal."""
        import polars as pl

        out: list[pl.Expr] = []
        text = prefix
        for index, part in enumerate(self.parts):
            text += self.separator if index else ""
            if isinstance(part, str):
                text += part
                continue
            if text:
                out.append(pl.lit(text))
            out.append(part)
            text = ""
        return [*out, pl.lit(text)] if text else out


def with_ids(df: pl.DataFrame, key: pl.Expr | Joined | None = None, per: Sequence[str] = (),
             *, origin: tuple[str, str] | None = None) -> pl.DataFrame:
    """Add the stable row `id`: sha256 of (source, account, key), where key is `ref` when the
    source gives one, else (date, amount, currency, description, n-th occurrence in the file).

    The same row in two overlapping exports gets the same id, so re-importing adds nothing.
    A `key` expression (or Joined parts) may replace `ref` (e.g. `ref|leg` where one line
    gives two rows); where it is null the content fallback applies. The fallback is only
    computed when needed. `per`: columns telling files apart in a frame of several
    (importers/stacked.py), so the n-th occurrence is counted in each file. `origin`: the
    (source, account) of every row of `df` (importers.base.finalize's), put in the text
    hashed as one literal rather than read from the columns row by row (the same ids).
    """
    import polars as pl

    engine = engine_for(df.height)
    if not isinstance(key, Joined):
        key = (key if key is not None else pl.col("ref")).cast(pl.String)
    ids = _hashed(df, key, engine, origin)
    if not ids.null_count():  # every row has a key: hashed without holding the keys (memory)
        return df.with_columns(ids)
    keys = df.select((key.expr() if isinstance(key, Joined) else key).alias("k"))["k"]
    content = ["date", "amount", "currency", "description"]
    occurrence = pl.int_range(pl.len()).over([*content, *per]).cast(pl.String)
    fallback = df.select(pl.concat_str(
        [pl.col(c).cast(pl.String) for c in content] + [occurrence],
        separator="|", ignore_nulls=True).alias("k"))["k"]
    return df.with_columns(_hashed(df, pl.lit(keys.fill_null(fallback)), engine, origin))


ID_SEPARATOR = "\x1f"
"""Between the source, the account and the key in the text a row id hashes."""


def _hashed(df: pl.DataFrame, key: pl.Expr | Joined, engine: str,
            origin: tuple[str, str] | None = None) -> pl.Series:
    """The ids of (source, account, `key`): null where the key is. The text hashed is the
    same whichever way it is joined (tests/test_ids_joined.py)."""
    import polars as pl

    if origin is None and not isinstance(key, Joined):
        text = pl.concat_str([pl.col("source"), pl.col("account"), key],
                             separator=ID_SEPARATOR)
    else:  # one literal for a source and account known (each piece costs a pass), and a
        # key's parts joined here rather than first (a copy of every key)
        joined = key if isinstance(key, Joined) else Joined((key,), "")
        pieces = joined.pieces(ID_SEPARATOR.join([*origin, ""])) if origin else []
        if not any(p.meta.root_names() for p in pieces):  # literals alone: one row, not
            # one per row of `df`; the columns then
            pieces = [pl.col("source"), pl.lit(ID_SEPARATOR), pl.col("account"),
                      *joined.pieces(ID_SEPARATOR)]
        text = pl.concat_str(pieces, separator="")
    # the streaming engine hashes morsels on every core (same ids, same order); the id is
    # written out anew, not kept as a slice of the 64-digit hex, whose buffer it would hold:
    # 91 MiB instead of 46 on a million rows, through the merge and the write. strip_chars
    # copies each (hex has no spaces to strip) at ~2/5 of the CPU of concat_str with ""
    short = sha256_hex(text).str.slice(0, ID_HEX).str.strip_chars()
    return df.lazy().select(short.alias("id")) \
        .collect(engine=engine).to_series()  # type: ignore[call-overload]


STREAM_IDS_FROM = 100_000
"""Rows from which ids are hashed by the streaming engine (below, its start-up costs more)."""


def engine_for(rows: int) -> str:
    """The polars engine for a plan reading `rows` rows: the streaming one from STREAM_IDS_FROM
    (a group_by of a year's earnings, 900k rows, costs it a third of the in-memory engine's
    CPU), the in-memory one below (the streaming engine's start-up costs more than the demo
    ledger's many small plans). Both give the same rows in the same order."""
    return "streaming" if rows >= STREAM_IDS_FROM else "in-memory"


def sha256_hex(expr: pl.Expr) -> pl.Expr:
    """sha256 of a string column as hex: vectorised by polars-hash, hashlib if it is missing.

    Both give the same digest, so ids never change with the plugin's presence.
    """
    try:
        import polars_hash  # noqa: F401  (registers the `chash` expression namespace)
    except ImportError:  # pragma: no cover - only without the plugin
        import hashlib

        import polars as pl

        return expr.map_elements(lambda s: hashlib.sha256(s.encode()).hexdigest(),
                                 return_dtype=pl.String)
    return expr.chash.sha2_256()  # type: ignore[attr-defined]

