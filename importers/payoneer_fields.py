"""Payoneer's export cells as typed fields (importers.payoneer's `parse` and `rows_many`).

A million-row export holds a few thousand days and a handful of currencies, statuses,
descriptions, stores, payers and payees. Those columns are read once per distinct value
(`_distinct`: a Categorical of its own, hashed once): whether trimming changes any cell is
decided on the distinct values, each day is parsed once, the instants that link a fee to what
it charged are the day's code and the time's combined, and the kinds' keys keep their codes
(CODED), which payoneer_kinds.kinds combines instead of hashing the strings again. A column is
trimmed cell by cell (`trimmed`) only where a distinct value needs it, as ever: the fields are
those trimming every cell gives (tests/test_payoneer_distinct.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importers.base import parse_dates_once, parse_money_columns
from importers.csv_parts import edge_space, trimmed, two_values
from importers.readers import LINE, Table

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl


def _fields(df: pl.DataFrame, table: Table, path: object,
            formats: list[str] | Callable[[pl.Series, pl.DataFrame], list[str]],
            keep: list[str] | None = None,
            few: dict[str, pl.Series] | None = None,
            keys: dict[str, pl.Series] | None = None) -> pl.DataFrame:
    """The export's cells as typed fields; an error at the first value that does not fit.
    `formats`: the date formats, or what makes them of the file's distinct day texts and
    its rows' LINE and Transaction Date (to name the row its error is about).

    Takes over `df` (the caller's table, or a stack of tables): a field at a time, each
    export column let go once the fields read from it are made, so the export's strings and
    the fields made of them are not all held at once (a large import's peak memory).

    Columns of few distinct values (days, currencies, statuses, the kinds' keys) are looked
    at once per distinct value (`_distinct`): whether trimming changes any cell, the dates
    parsed, the kinds' codes (CODED); a column is trimmed cell by cell only where a distinct
    value needs it (`trimmed`, as ever).

    `df`'s columns PIECED may be in pieces, as polars read them (payoneer._in_one_piece),
    the others are one piece: those are taken out of `df` (a query of a frame of columns cut
    differently copies them all into one piece first) and cast into codes and days as they
    are, not first copied into one piece (a string's view is 16 bytes a row); each field is
    one piece. `keys`: where given, a kinds' key only the kinds read (Store Name, Source,
    Target) is no field where its codes are made: its distinct values go here, the code its
    position (payoneer_kinds.kinds reads them)."""
    import polars as pl

    # name: (column, blank is null, what is done to the trimmed text)
    strings: dict[str, tuple[pl.Expr, bool, Callable[[pl.Series], pl.Series] | None]] = {
        "_transfer_text": (table.col("transfer amount"), True, None),
        "_transfer_currency": (table.col("transfer amount currency"), True, _upper),
        "currency": (pl.col("currency"), False, _upper),
        "status": (pl.col("status"), False, None),
        "text": (pl.col("description"), True, lambda v: v.fill_null("")),
        "_extra": (table.col("additional description"), True, None),
        "_store": (table.col("store name"), True, None),
        "_source": (table.col("source"), True, None),
        "_target": (table.col("target"), True, None),
        "ref": (table.col("transaction id"), True, None),
        "reference_id": (table.col("reference id"), True, None),
    }  # built first: `table.col` looks at the columns present
    # the columns only cast into codes, if in pieces (`_in_one_piece`): out of `df` (beside
    # columns in one piece, they would make a query on it copy them into one first)
    pieces = {name: df.drop_in_place(name) for name in PIECED
              if name in df.columns and df.get_column(name).n_chunks() > 1}
    when = pl.DataFrame([df.get_column(LINE), *(pieces[c] if c in pieces else df.get_column(c)
                                                for c in ("transaction date", "transaction time"))])
    day = _distinct(when["transaction date"])
    fields = {"date": _dates(when, day, formats if isinstance(formats, list)
                             else formats(day[1] if day else when["transaction date"].unique(),
                                          when),
                             path)}
    plain: set[str] = set()  # (the money columns of plain numbers alone)
    fields.update(parse_money_columns(df, {
        "credit": (pl.col("credit amount"), "Credit Amount", False),
        "debit": (pl.col("debit amount"), "Debit Amount", False),
        "balance": (pl.col("running balance"), "Running Balance", False),
        "_transfer": (table.col("transfer amount"), "Transfer Amount", False),
    }, path=path, plain=plain))
    _let_go(df, "credit amount", "debit amount", "running balance")
    for name, (column, blank_is_null, then) in strings.items():
        cells = df
        if column.meta.root_names() and (root := column.meta.root_names()[0]) in pieces:
            cells = pieces.pop(root).to_frame()
        value = cells.with_columns(column.alias(name))[name]  # (a literal fills every row)
        distinct = None
        if name in CODED:  # the kinds' key: its code, which `kinds` reads
            coded = _distinct(value)
            if coded is not None:
                codes, distinct = coded
                fields[CODED[name]] = codes  # (UInt32, as distinct_lookup combines them:
                # narrowed, they were cast back there, 0.02 s of CPU more; the peak is not here)
                if keys is not None and name in _KEYS_ONLY and _clean(distinct, blank_is_null):
                    keys[name] = distinct  # (as trimming gives them: none needs it)
                    _let_go(df, *column.meta.root_names())
                    continue
        elif name in _FEW:
            distinct = _few_values(value)
        if (distinct is None or not _clean(distinct, blank_is_null)) \
                and _AMOUNT_TEXT.get(name) not in plain:  # (the Transaction IDs: the cast
            # that proves them integers is cheaper than a test of each cell)
            value = trimmed(cells, column, blank_is_null, numbers=name in _NUMBERS)
            distinct = None
        if few is not None and distinct is not None and name in _FEW:
            few[name] = distinct.str.to_uppercase() if then is _upper else distinct
        if then is _upper:
            value = _upper(value, distinct)
        elif then is not None:
            value = then(value)
        fields[name] = value if name in _IN_PIECES else value.rechunk()  # (one made of
        # cells in pieces: copied into one)
        _let_go(df, *column.meta.root_names())
    fields["_ts"] = _instants_of(when, day).rechunk()
    del when, pieces
    fields["date"] = fields["date"].rechunk()  # (the days and codes are one piece: as is)
    return pl.DataFrame([df[c].rechunk() for c in (LINE, *(keep or []))]).with_columns(
        **fields)


CODED = {"text": "\0code text", "_store": "\0code store", "_source": "\0code source",
         "_target": "\0code target"}
"""The kinds' string keys (payoneer_kinds.KEYS) -> the column of each row's code of its
export cell (null for an empty one), which `kinds` combines rather than hashing the strings
again. Equal codes, equal cells: trimmed cells, as the kinds read them, are equal too."""

READ = {"transaction date", "transaction time", "transaction id", "description",
         "credit amount", "debit amount", "currency", "transfer amount",
         "transfer amount currency", "status", "running balance", "additional description",
         "store name", "source", "target", "reference id"}
"""The export's columns `_fields` reads."""

PIECED = {"transaction date", "transaction time", "target", "status"}
"""Columns `_fields` only casts into codes (`_distinct`), in pieces as read, the codes one
piece: not first copied into one piece (16 bytes a row). Not one with nulls (Store Name,
Source): its cast copies it into one piece first. And the Status, a field left in pieces
(_IN_PIECES)."""

_IN_PIECES = {"status"}
"""Fields left in the pieces their cells are in: the statuses, which payoneer.parse reads
as a column (not by a query of the frame) and drops before anything else."""

_KEYS_ONLY = {"_store", "_source", "_target"}
"""The kinds' keys read by nothing but the kinds (`_fields`' `keys`)."""

_AMOUNT_TEXT = {"_transfer_text": "_transfer"}
"""Text fields of a money column (-> its amount's field): each the cells themselves where
every one, null aside, is a plain number (base.parse_money_columns' `plain`), which trimming
would leave as they are, not tested again cell by cell."""

_FEW = {"_transfer_currency", "currency", "status"}
"""Other fields of a few distinct values, whose trimming is decided on those."""

_NUMBERS = {"ref"}
"""Fields usually written as integers (Payoneer's Transaction IDs), whose trimming is
decided by a cast where they all are (csv_parts.integer_cells)."""


def _distinct(values: pl.Series) -> tuple[pl.Series, pl.Series] | None:
    """(codes, distinct): each cell's code (UInt32, null for null) and the distinct non-null
    values, the code its position among them: a Categorical of its own, hashed once. None
    where its categories do not number the cells so (the caller reads the cells)."""
    import polars as pl

    categories = pl.Categories.random()
    cells = values.cast(pl.Categorical(categories))  # (held: its categories live with it)
    codes = cells.to_physical()
    top = codes.max()
    if top is None:
        return codes, pl.Series([], dtype=pl.String)
    if top < FEW_VALUES:
        distinct = categories.to_series()
    else:  # (the categories' own list is made in Python, a value at a time)
        present = cells.unique().drop_nulls()
        distinct = pl.Series([None], dtype=pl.String).extend_constant(None, top).scatter(
            present.to_physical(), present.cast(pl.String))
    if distinct.null_count() or top >= distinct.len():
        return None
    return codes, distinct


FEW_VALUES = 4096
"""Up to this many distinct values, `_distinct` reads them from their categories."""


def _few_values(values: pl.Series) -> pl.Series:
    """`values.unique()`, in some order: where they are one or two values and no null (a
    file's statuses and currencies, as usual), found by comparisons
    (csv_parts.two_values), not by hashing a million strings (0.004 s less each)."""
    other = two_values(values)
    if other is None:
        return values.unique()
    return values.gather([0, other.arg_max()]) if other.any() else values.head(1)


def _clean(distinct: pl.Series, blank_is_null: bool) -> bool:
    """True where `trimmed` gives the column itself: no distinct value has white space at an
    end, nor (where a blank is null) is empty."""
    return not edge_space(distinct) and not (
        blank_is_null and bool((distinct.str.len_bytes() == 0).any()))


def _dates(df: pl.DataFrame, day: tuple[pl.Series, pl.Series] | None, formats: list[str],
           path: object) -> pl.Series:
    """The Transaction Date, each distinct day parsed once (base.parse_dates_once)."""
    return parse_dates_once(df, "transaction date", day, formats, path=path,
                            what="Transaction Date",
                            hint="Payoneer writes dates month-first (06/28/2024); if this file is "
                            "day-first, pass --date-order dmy")


def _instants_of(df: pl.DataFrame, day: tuple[pl.Series, pl.Series] | None) -> pl.Series:
    """`_instants` of the trimmed day and time texts: the day's code and the time's (the
    physical value of a Categorical of its own) combined where no distinct day and no time
    needs trimming and no day holds a space, else made of the texts. Whether a time needs
    trimming is read from the distinct times, the Categorical's own categories (tens of
    thousands: 0.01 s less than a regex over every cell; tests/test_payoneer_distinct.py's
    padded and empty times take the other way)."""
    import polars as pl

    times = df["transaction time"]
    if day is not None and _clean(day[1], False) \
            and not day[1].str.contains(" ", literal=True).any():
        categories = pl.Categories.random()
        cells = times.cast(pl.Categorical(categories))
        # (the distinct times looked at for white space: its categories, not every cell)
        distinct = categories.to_series()
        if not edge_space(distinct):
            return _day_time(day[0], cells.to_physical(), day[1].len(), distinct.len())
    texts = (trimmed(df, pl.col(c), False) for c in ("transaction date", "transaction time"))
    return _instants(*texts)


def _day_time(day: pl.Series, time: pl.Series, days: int, times: int) -> pl.Series:
    """`_ts` of each row's day and time codes (below `days` and `times`, null for none):
    day * times + time, in 32 bits where that fits (a third of the bytes made and faulted in
    of the 64-bit number, half of those held by the links), else day * 2**32 + time. Equal
    where both codes are (tests/test_payoneer_booked.py)."""
    import polars as pl

    top = time.max()
    fits = (days + 1) * (times + 1) < 2**32 and (top is None or top < times)
    width, times = (pl.UInt32, times) if fits else (pl.UInt64, 1 << 32)
    return pl.DataFrame([day.alias("d"), time.alias("t")]).select(
        (pl.col("d").cast(width) * pl.lit(times, dtype=width) + pl.col("t").cast(width))
        .alias("_ts")).to_series()


def _upper(values: pl.Series, distinct: pl.Series | None = None) -> pl.Series:
    """`values` upper-cased; the column itself where each of its few distinct values (the
    currency codes; `distinct` where known) already is: not a million strings copied
    unchanged."""
    if distinct is None:
        distinct = values.unique()
    upper = distinct.str.to_uppercase()
    return values if (upper == distinct).all() else values.str.to_uppercase()


def _instants(day: pl.Series, time: pl.Series) -> pl.Series:
    """`_ts`, what rows are matched by (a fee and what it charged, the legs of a conversion):
    equal where the texts "day time" are. A number made of the two texts' categorical codes,
    not a million strings made and then hashed by every match; the text itself where a day
    holds a space (then two pairs of texts could make one text)."""
    import polars as pl

    both = pl.DataFrame([day.alias("d"), time.alias("t")])
    if both.select(pl.col("d").str.contains(" ", literal=True).any()).item():
        return both.select(pl.concat_str(["d", "t"], separator=" ").alias("_ts")).to_series()
    # categories of their own (let go with the codes), not the process's global ones, which
    # would keep every time of day of the file
    code = [pl.col(c).cast(pl.Categorical(pl.Categories.random())).to_physical()
            for c in ("d", "t")]
    return both.select((code[0].cast(pl.UInt64) * (1 << 32) + code[1]).alias("_ts")).to_series()


def _let_go(df: pl.DataFrame, *names: str) -> None:
    """Drop `names` from `df` in place (its owner's frame too: their cells are freed), but
    the columns `_ts` is made of last."""
    for name in names:
        if name in df.columns and name not in ("transaction date", "transaction time"):
            df.drop_in_place(name)
