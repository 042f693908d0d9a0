"""Many files of one format read as one frame: what a format's `rows_many` shares.

A research batch reads thousands of small exports (a worker's monthly downloads, ~1,000 rows
each), where a file's fixed costs (dozens of small polars queries planned per file) dominate.
A format's `rows_many(raws, options)` reads each file's table alone (`tables`: the same reader
and checks as `parse`), stacks those with the same columns with a file column (`FILE`), runs
its vectorised parsing once, and splits the canonical rows per file (`finish`). Whatever is
decided per file in `parse` (decimal mark, date order, the running balance's order) is decided
per file here too.

The answer for each file is exactly `parse(raw, options).rows`, or None: a file any check
refuses, or one this path does not cover (no rows, balances collected for assertions), is left
for `parse` to read alone, which gives its exact error without spoiling the others' rows. A
check that fails on the stacked frame without saying which file (a bad date, a bad amount)
leaves the whole stack to `parse`: still right, only slower.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from importers.base import BALANCES
from importers.raw_files import RawFile
from importers.readers import LINE, Table, read_table

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import polars as pl

FILE = "_file"
"""Column holding each row's file: its index in the raws given to `rows_many`."""
MANY_TABLES: ContextVar[Callable[[Sequence[RawFile], Sequence[int]], list[Table | None]]
                       | None] = ContextVar("many_tables", default=None)
"""A reader of many files' `read_table(raw, header_index)` at once (given each file's
header_index), None for a file it leaves to `read_table` (a research batch's chunk sets one:
ledger/batch/reading.py)."""


def covered(raws: Sequence[RawFile]) -> bool:
    """Whether the stacked path may run at all (not while balances are collected for an
    export's assertions: `parse` adds each file's checked rows there)."""
    return len(raws) > 1 and BALANCES.get() is None


def tables(raws: Sequence[RawFile], check: Callable[[Table], None] | None = None
           ) -> dict[tuple[str, ...], list[tuple[int, Table]]]:
    """Each file's table (`read_table(raw, 0)`, then `check`), grouped by its columns; a file
    that fails either, or holds no rows, is left out (for `parse`)."""
    groups: dict[tuple[str, ...], list[tuple[int, Table]]] = {}
    many = MANY_TABLES.get()
    ready = many(raws, [0] * len(raws)) if many is not None else [None] * len(raws)
    for index, raw in enumerate(raws):
        try:
            table = ready[index] or read_table(raw, 0)
            if check is not None:
                check(table)
        except Exception:  # `parse` reports it, file by file
            continue
        if table.df.height:
            groups.setdefault(tuple(table.df.columns), []).append((index, table))
    return groups


def stack(group: list[tuple[int, Table]]) -> pl.DataFrame:
    """The group's tables as one frame, with each row's file in `FILE`."""
    import polars as pl

    return pl.concat([t.df.with_columns(pl.lit(i, dtype=pl.Int32).alias(FILE))
                      for i, t in group], rechunk=True)


def bad_files(df: pl.DataFrame, bad: pl.Expr) -> set[int]:
    """Files with a row where `bad` holds."""
    import polars as pl

    # the file column alone filtered (a frame's filter would copy every column first)
    return set(df.select(pl.col(FILE).filter(bad.fill_null(False)).unique())[FILE].to_list())


def without(df: pl.DataFrame, files: set[int]) -> pl.DataFrame:
    import polars as pl

    return df.filter(~pl.col(FILE).is_in(sorted(files))) if files else df


def balance_breaks(df: pl.DataFrame, group: Sequence[str] = (), *,
                   order_by_dates: bool = False) -> set[int]:
    """Files whose running balance `check_running_balance(file's rows, group=group)` refuses:
    each row's `balance` must be the previous row's plus its `amount` (per `group`), in file
    order or reversed, the order decided per file from its first and last dated balance (both
    tried where they cannot tell). `order_by_dates`: decided first from the file's first and
    last date of any row (as bank statements are checked, importers/bank_columns.py)."""
    import polars as pl

    keys = [FILE, *group]
    by_dates = None
    if order_by_dates:
        dates = pl.col("date").drop_nulls()
        by_dates = df.lazy().group_by(FILE).agg(
            pl.when((dates.len() > 1) & (dates.first() != dates.last()))
            .then(dates.first() > dates.last()).alias("_by_dates"))
    # one plan, collected once (each step collected alone was a query of its own)
    rows = df.lazy().select(FILE, LINE, "date", "amount", "balance", *group).filter(
        pl.col("balance").is_not_null())
    breaks = []
    for reverse in (False, True):
        ordered = rows.sort([FILE, LINE], descending=[False, reverse])
        expected = (pl.col("balance").shift(1) + pl.col("amount")).over(keys)
        breaks.append(ordered.group_by(FILE).agg(
            (expected.is_not_null() & (expected != pl.col("balance"))).any()
            .alias("ascending" if not reverse else "descending")))
    per_file = rows.group_by(FILE, maintain_order=True).agg(
        pl.len().alias("n"), pl.col("date").first().alias("first"),
        pl.col("date").last().alias("last"))
    per_file = per_file.join(breaks[0], on=FILE).join(breaks[1], on=FILE)
    decided = pl.col("first").is_not_null() & pl.col("last").is_not_null() \
        & (pl.col("first") != pl.col("last"))
    newest_first = pl.col("first") > pl.col("last")
    if by_dates is not None:
        per_file = per_file.join(by_dates, on=FILE, how="left")
        decided = pl.col("_by_dates").is_not_null() | decided
        newest_first = pl.coalesce(pl.col("_by_dates"), newest_first)
    fine = (pl.col("n") < 2) | pl.when(decided).then(
        pl.when(newest_first).then(~pl.col("descending")).otherwise(~pl.col("ascending"))
    ).otherwise(~pl.col("ascending") | ~pl.col("descending"))
    return set(per_file.filter(~fine).select(FILE).collect(engine="in-memory")[FILE]
               .to_list())


def finish(df: pl.DataFrame, raws: Sequence[RawFile], *, source: str, account: str,
           key: pl.Expr | None = None) -> dict[int, pl.DataFrame]:
    """`finalize` of each file's rows in `df` (in file order within each file): canonical,
    validated rows with ids, by file; files the checks refuse are left out."""
    import polars as pl

    from ledger.core import schema

    shas = pl.Series([raws[i].sha256 for i in range(len(raws))], dtype=pl.String)
    df = df.rechunk().with_columns(
        pl.lit(source).alias("source"),
        pl.lit(account).alias("account"),
        pl.lit("source").alias("origin"),
        pl.col(FILE).replace_strict(list(range(len(raws))), shas, return_dtype=pl.String)
        .alias("import_id"),
        pl.col(LINE).alias("line"),
    )
    df = schema.with_ids(df, key, per=[FILE])
    files = df[FILE]
    df = schema.conform(df).with_columns(files)
    refused = bad_files(df, pl.any_horizontal(pl.col(c).is_null() for c in schema.REQUIRED))
    refused |= bad_files(df, ~pl.col("currency").is_in(sorted(_currencies())))
    refused |= bad_files(df, pl.col("id").is_duplicated().over(FILE))
    refused |= bad_files(df, pl.col("amount").abs() >= _limit())
    df = without(df, refused)
    out = df.partition_by(FILE, as_dict=True, include_key=False, maintain_order=True)
    return {int(k[0]): frame for k, frame in out.items()}


def _currencies() -> frozenset[str]:
    from ledger.core.money import known_currencies

    return frozenset(known_currencies())


def _limit() -> object:
    from decimal import Decimal

    from ledger.core.schema import MAX_AMOUNT_DIGITS

    return Decimal(10) ** MAX_AMOUNT_DIGITS
