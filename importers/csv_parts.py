"""Reading a large CSV body a part at a time (importers.readers.read_table's large files).

A million-row export read at once holds every cell of every column as strings beside the
file's bytes: a large import's peak memory. Read a part at a time, each part's columns that
the importer does not read are let go as soon as the part is checked, and the polars reader's
own buffers are a part's, not the file's. Also what every table reader does to its cells:
the empty-row filter (`without_empty_rows`) and trimmed text (`trimmed`); and what importers
work out once per distinct value of a few columns, looked up for each row (`distinct_lookup`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import accumulate, pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


def without_empty_rows(df: pl.DataFrame, cells: list[str]) -> pl.DataFrame:
    """`df` without the rows whose `cells` are all empty; `df` itself where there are none
    (the usual case: filtering copies every cell of the table)."""
    import polars as pl

    if not cells:
        return df
    empty = df.select(pl.all_horizontal(pl.col(c).is_null() for c in cells).any()).item()
    return df.filter(~pl.all_horizontal(pl.col(c).is_null() for c in cells)) if empty else df


EDGE_SPACE = r"^\s|\s$"
"""A value `strip_chars` changes: white space (Unicode's, as `strip_chars` strips) at an end."""


LONG_BYTES = 32
r"""A column's mean cell length from which `edge_space` tests each end on its own: `^\s|\s$`
scans a cell from its start (0.070 s on HDFC's million 48-byte narrations), `^\s` then `\s$`
look at the ends only (0.033 s) but cost two passes, more on short cells (0.027 s vs 0.015 s
on 8-byte dates; even at 20 bytes: Payoneer's descriptions)."""


def edge_space(values: pl.Series, length: pl.Series | None = None) -> bool:
    """True where a cell of `values` (strings) has white space at an end (`EDGE_SPACE`);
    `length`: their `str.len_bytes()`, where the caller has it."""
    if length is None:
        length = values.str.len_bytes()
    mean = length.mean()  # None where every cell is null
    if isinstance(mean, float) and mean >= LONG_BYTES:
        return bool(values.str.contains(r"^\s").any() or values.str.contains(r"\s$").any())
    return bool(values.str.contains(EDGE_SPACE).any())


def trimmed(df: pl.DataFrame, column: pl.Expr, blank_is_null: bool, *,
            numbers: bool = False) -> pl.Series:
    """`column`'s text trimmed (`importers.base.nonblank` where `blank_is_null`): the column
    itself where trimming changes no cell (nor leaves one empty, where that makes it null),
    as in an export as written: the trimmed copy of a million strings is let go at once
    rather than held in place of the table's own. `numbers`: cells usually integers as
    written (an export's ids): where every one is (`integer_cells`), none needs trimming
    (0.009 s of CPU on a million, the white space test 0.02 s); else as any text."""
    import polars as pl

    values = df.with_columns(column.alias("_v"))["_v"]  # (with_columns: a literal fills rows)
    if values.null_count() == values.len():  # (an empty column: nothing to trim)
        return values
    if numbers and values.dtype == pl.String and values.len() and integer_cells(values):
        return values
    length = values.str.len_bytes()
    if not edge_space(values, length):  # nothing to trim: a test per cell rather
        # than a trimmed copy of the column made and let go (a large import's peak memory)
        if blank_is_null and (length == 0).any():
            return values.zip_with(length > 0, pl.Series([None], dtype=pl.String))
        return values
    stripped = values.str.strip_chars()
    changed = (stripped.str.len_bytes() != length).any()
    length = stripped.str.len_bytes()
    if blank_is_null and (length == 0).any():
        return stripped.zip_with(length > 0, pl.Series([None], dtype=pl.String)).alias("_v")
    return stripped if changed else values


def integer_cells(values: pl.Series) -> bool:
    """True where every cell of `values` (null aside) reads as a 64-bit integer: polars reads
    one only of an optional sign and digits, so no such cell has white space at an end nor is
    empty, and `trimmed` would give `values` itself (tests/test_payoneer_booked.py holds
    polars to it)."""
    import polars as pl

    return values.cast(pl.Int64, strict=False).null_count() == values.null_count()


FEW = 16
"""At most one distinct value in this many rows: `trimmed_codes` trims the distinct values."""


def trimmed_codes(values: pl.Series, blank_is_null: bool
                  ) -> tuple[pl.Series, pl.Series] | None:
    """(`index`, `distinct`): `trimmed(values)` as `distinct.gather(index)`: each distinct
    value (`distinct_codes`) trimmed, a few hundred client names rather than a million cells
    tested, and the rows' 4-byte codes for a caller that moves the rows before it spreads
    the values over them (importers/upwork.py); None where the values are not few (more
    than one distinct in FEW rows)."""
    import polars as pl

    index, distinct = distinct_codes(values)
    if distinct.len() * FEW > values.len():
        return None
    return index, trimmed(distinct.to_frame("_v"), pl.col("_v"), blank_is_null)


PART_BYTES = 16 * 1024 * 1024
"""How much of a large file's body `read_parts` gives polars at a time."""


def read_parts(body: bytes, start: int, sep: str, names: list[str], named: list[str],
               keep: list[str], first_line: int, line_column: str) -> pl.DataFrame | None:
    """A large body (the header at `start`) read PART_BYTES at a time, each part's empty rows
    dropped and only its `keep` columns kept, with each row's line (`line_column`): the rows
    `read_table` reads, while the cells of every column of the whole file are never held at
    once (a large import's peak memory). None where the body is not cut in parts: it fits
    in one, a quoted cell would be cut, or polars refuses a part (the whole body is then read
    at once, and its error is reported as ever).

    The parts are first cut at the first line break after each PART_BYTES (`line_cuts`), no
    quote counted: polars refuses a part that ends inside a quoted cell (an unterminated
    quote), so parts it reads were each cut between records, as the whole body is read
    (tests/test_upwork_cuts.py). Where it refuses one, the parts are cut again where an even
    number of quotes comes before (`part_cuts`, a pass over the body: 0.05 s of CPU on a
    1M-row Upwork export) and read again if those cuts differ; else the body is read whole."""
    cuts = line_cuts(body, start)
    if cuts is None:
        return None
    found = _read_cut(body, cuts, sep, names, named, keep, first_line, line_column)
    if found is not None:
        return found
    counted = part_cuts(body, start)
    if counted is None or len(counted) < 3 or counted == cuts:
        return None
    return _read_cut(body, counted, sep, names, named, keep, first_line, line_column)


def _read_cut(body: bytes, cuts: list[int], sep: str, names: list[str], named: list[str],
              keep: list[str], first_line: int, line_column: str) -> pl.DataFrame | None:
    """`read_parts` of the parts `cuts` makes; None where polars refuses one."""
    import polars as pl

    stop = body.find(b"\n", cuts[0], cuts[1])  # (not a copy of the first part split: 0.015 s)
    header = body[cuts[0]:cuts[1] if stop < 0 else stop] + b"\n"  # read before each part:
    frames, rows = [], 0  # every part is read as the whole body is (its width, blank lines)
    view = memoryview(body)  # each part's bytes copied once (a slice and `header +` twice)
    try:
        for index, (begin, end) in enumerate(pairwise(cuts)):
            part = pl.read_csv(
                b"".join((b"" if index == 0 else header, view[begin:end])),
                infer_schema=False, separator=sep, has_header=True, new_columns=names,
                truncate_ragged_lines=False, raise_if_empty=False)
            line = chunked_like(part, pl.int_range(first_line + rows, first_line + rows
                                                    + part.height, eager=True, dtype=pl.Int64))
            rows += part.height
            frames.append(without_empty_rows(part.with_columns(line.alias(line_column)), named)
                          .select(*keep, line_column))
            del part
    except pl.exceptions.PolarsError:
        return None
    return pl.concat(frames)


RUN_ROWS = 64
"""The mean length of the runs of consecutive rows in an order from which `in_order` copies
each column's runs (slices) rather than gathering its rows one by one."""


def in_order(df: pl.DataFrame, order: pl.Series | list[tuple[int, int]] | None
             ) -> pl.DataFrame:
    """`df.rechunk()[order]` (`df.rechunk()` where `order` is None), a column at a time, each
    moved out of `df` (the caller's, not used again) and copied once into one piece.
    `order`: row numbers, or runs of consecutive rows (first row, length) in turn.

    Where `order` is made of runs (an export newest first, sorted by date: a run per day,
    read backwards: `newest_first_runs`), each column is its runs' slices joined: one copy of
    the column (a string column's 16-byte views; its text stays in the buffers polars read
    it into), where gathering rows from a column in pieces copied the text too (4x the
    CPU), and rechunking then gathering copied the views twice
    (tests/test_csv_parts_order.py)."""
    import polars as pl

    runs = order if order is None or isinstance(order, list) else _runs(order)
    if runs is None and order is not None:  # rows one by one: each column made one first
        return pl.DataFrame([df.drop_in_place(name).rechunk().to_frame()[order].to_series()
                             for name in list(df.columns)])
    if runs is None or not df.height or runs == [(0, df.height)]:
        return pl.DataFrame([df.drop_in_place(name).rechunk() for name in list(df.columns)])
    out = []
    for name in list(df.columns):
        column = df.drop_in_place(name)
        out.append(pl.concat([column.slice(start, length) for start, length in runs],
                             rechunk=True))
        del column
    return pl.DataFrame(out)


def _runs(order: pl.Series) -> list[tuple[int, int]] | None:
    """(first row, length) of each run of consecutive rows in `order`, in turn; None where
    the runs are shorter than RUN_ROWS on average."""
    import polars as pl

    if not order.len():
        return []
    steps = order.cast(pl.Int64).diff()
    starts = (steps != 1).fill_null(True).arg_true()
    spans = _spans(starts, order.len())
    if spans is None:
        return None
    return list(zip(order.gather(starts).to_list(), (length for _, length in spans),
                    strict=True))


def _spans(starts: pl.Series, rows: int) -> list[tuple[int, int]] | None:
    """(start, length) of each run of `rows` rows that begins at one of `starts` (rising, the
    first 0); None where the runs are shorter than RUN_ROWS on average."""
    if starts.len() * RUN_ROWS > rows:
        return None
    bounds = starts.to_list()
    return [(start, end - start) for start, end in pairwise([*bounds, rows])]


def newest_first_runs(keys: pl.Series) -> list[tuple[int, int]] | None:
    """The runs (`in_order`) of a stable ascending sort of `keys` (no nulls) that never rise
    (an export newest first): each run of equal keys, the last first; None where they rise
    somewhere, or where the runs are shorter than RUN_ROWS on average."""
    if not keys.is_sorted(descending=True):
        return None
    starts = keys.ne_missing(keys.shift(1)).arg_true()  # (the first row: against a null)
    spans = _spans(starts, keys.len())
    return None if spans is None else spans[::-1]


def line_cuts(body: bytes, start: int) -> list[int] | None:
    """Offsets cutting `body[start:]` into parts of about PART_BYTES, each just after the
    first line break from PART_BYTES on (quotes not counted: see `read_parts`); None where
    that makes fewer than two parts."""
    cuts = [start]
    while len(body) - cuts[-1] > PART_BYTES:
        at = body.find(b"\n", cuts[-1] + PART_BYTES)
        if at < 0:
            break
        cuts.append(at + 1)
    if cuts[-1] < len(body):
        cuts.append(len(body))
    return cuts if len(cuts) >= 3 else None


def chunked_like(part: pl.DataFrame, line: pl.Series) -> pl.Series:
    """`line` cut in the chunks of `part`'s columns (polars reads a large CSV, and each part
    of one, in several): a column in one chunk beside them made the next query re-align every
    column at once, a copy of the whole table beside it (a third of a large import's peak
    memory; 0.12 s of CPU of a 1M-row Upwork import). readers.read_table uses it too."""
    import polars as pl

    lengths = part.get_column(part.columns[0]).chunk_lengths() if part.width else []
    if len(lengths) < 2:
        return line
    starts = list(accumulate(lengths, initial=0))[:-1]
    return pl.concat([line.slice(start, length)
                      for start, length in zip(starts, lengths, strict=True)], rechunk=False)


def part_cuts(body: bytes, start: int) -> list[int] | None:
    """Offsets cutting `body[start:]` into parts of about PART_BYTES, each just after a line
    break outside quotes (an even number of quotes before it); None where no such break is
    found within a part's length (a quoted cell spanning many lines)."""
    cuts = [start]
    quotes = 0
    while len(body) - cuts[-1] > PART_BYTES:
        at = body.find(b"\n", cuts[-1] + PART_BYTES)
        quotes += body.count(b'"', cuts[-1], at)
        limit = cuts[-1] + 2 * PART_BYTES
        while at >= 0 and quotes % 2 and at < limit:
            following = body.find(b"\n", at + 1)
            quotes += body.count(b'"', at, following if following >= 0 else len(body))
            at = following
        if at < 0:
            break
        if quotes % 2:
            return None
        cuts.append(at + 1)
    if cuts[-1] < len(body):
        cuts.append(len(body))
    return cuts


# --- once per distinct value ---------------------------------------------------------------
# An export has a million rows but a handful of types, statuses or payers: importers work out
# kinds, categories and the like once per distinct combination and look them up for each row.
# Finding the combinations (`unique`) and looking them up (a join) each hashed every row's
# strings, several columns at a time: on a million-row PayPal export 0.6 s of CPU, more than
# the rules themselves. Here each key column is hashed once, into a small integer code (the
# physical values of a Categorical of its own, let go when done), the codes of a row are
# combined into one integer, and the combinations and the lookup work on that.


def distinct_lookup(df: pl.DataFrame, keys: list[str],
                    make: Callable[[pl.DataFrame], pl.DataFrame],
                    codes: dict[str, str] | None = None,
                    values: dict[str, pl.Series] | None = None) -> pl.DataFrame:
    """`df` with the columns that `make` adds to the distinct combinations of `keys` looked
    up for each row (nulls match nulls): what `importers.base.lookup(df, make(combos), keys)`
    gives, where `combos` holds each combination once, in the order of its first row. `make`
    gets the combinations with a code column beside `keys` and must keep both as they are (it
    adds columns: `with_columns`). `codes`: key -> a column of `df` already holding each
    row's code of that key (unsigned, null for null; equal codes, equal values, as
    importers/payoneer_fields.py makes them as it reads the cells), used instead of hashing
    the key's strings again. `values`: key -> its distinct values, where the key is no
    column of `df` but its code is (`codes`), the code its position among them: the key's
    value is read from them for the combinations only, not held for every row."""
    import polars as pl

    # each key's code: its given code, or its Categorical's physical value (a Categories of
    # its own: let go with the codes; the strings hashed once), or a Boolean key's 0 or 1
    # (a string key of one or two values is one: `two_values`); null, where a key has
    # any, as one more code (its top + 1). Combined in one expression that skips what
    # changes nothing (a key of one value, a no-op cast, the first key's product): each
    # step writes a million-row column (~4 MB, a thousand page faults)
    given = codes or {}
    schema = {**df.schema, **{k: pl.String for k in values or ()}}
    hashed = [k for k in keys if k not in given and schema[k] != pl.Boolean]
    two = {k: d for k in hashed if schema[k] == pl.String
           and (d := two_values(df.get_column(k))) is not None}  # (not hashed)
    raw = pl.DataFrame([
        *df.select(pl.col(given.get(k, k)).alias(k) for k in keys if k not in hashed),
        *df.select(pl.col(k).cast(pl.Categorical(pl.Categories.random())).to_physical()
                   for k in hashed if k not in two),
        *(d.alias(k) for k, d in two.items())])
    top = dict(zip(raw.columns, raw.select(pl.all().max()).row(0), strict=True)) \
        if raw.width else {}
    tops = [top.get(k) for k in keys]  # (None: one value in every row, or only nulls)
    nulls = [raw[k].null_count() if k in top else 0 for k in keys]
    radices = [1 if top is None else int(top) + 1 + bool(null)
               for top, null in zip(tops, nulls, strict=True)]
    combinations = math.prod(radices)
    if combinations >= 2**63:  # the combined code could overflow: by the strings
        df = _with_values(df, given, values)
        table = make(df.select(keys).unique(maintain_order=True))
        found = df.select(keys).join(table, on=keys, how="left", maintain_order="left",
                                     nulls_equal=True)
        return df.with_columns(found.drop(keys))
    width = pl.UInt32 if combinations < 2**32 else pl.UInt64  # (half the bytes, if it fits)
    combined = None
    for key, radix, null in zip(keys, radices, nulls, strict=True):
        if radix == 1:  # one value (or only nulls): the same digit in every code
            continue
        digit = pl.col(key) if raw.schema[key] == width else pl.col(key).cast(width)
        if null:
            digit = digit.fill_null(pl.lit(radix - 1, dtype=width))
        combined = digit if combined is None \
            else combined * pl.lit(radix, dtype=width) + digit
    code = pl.repeat(0, df.height, dtype=width, eager=True).alias(CODE) if combined is None \
        else raw.select(combined.alias(CODE)).to_series()
    del raw
    first = code.arg_unique()  # each combination's first row, in file order
    rows = df.select(keys).gather(first) if not values else _with_values(
        df.select(given[k] if k in values else k for k in keys).gather(first), given, values)
    table = make(rows.select(keys).with_columns(code.gather(first)))
    new = [c for c in table.columns if c not in keys and c != CODE]
    if combinations <= max(df.height, DENSE):  # each code's row of `table` by a gather
        slots = pl.repeat(0, combinations, dtype=pl.UInt32, eager=True).scatter(
            table[CODE], pl.Series(range(table.height), dtype=pl.UInt32))  # code -> its row
        at = slots.gather(code)
        del code
        return df.with_columns(table[c].gather(at) for c in new)
    found = code.to_frame().join(table.select(CODE, *new), on=CODE, how="left",
                                 maintain_order="left")
    return df.with_columns(found.select(new))


def _with_values(df: pl.DataFrame, codes: dict[str, str],
                 values: dict[str, pl.Series] | None) -> pl.DataFrame:
    """`df` with each key of `values` made of its code (`distinct_lookup`)."""
    return df.with_columns(values[k].gather(df.get_column(codes[k])).alias(k)
                           for k in values or ())


def two_values(values: pl.Series) -> pl.Series | None:
    """Where `values` holds one or two distinct values and no null: True where a row's value
    is not the first row's, a Boolean key that tells the same rows apart; found by two
    comparisons (~0.004 s on a million strings) rather than hashed (~0.013 s): PayPal's
    types, statuses, kinds, payer and payee emails. None otherwise, first seen in the
    first rows, where a key of more values shows a third."""
    if values.null_count() or not values.len() or values.head(FEW_ROWS).n_unique() > 2:
        return None
    other = values != values[0]
    if not other.any():
        return other
    second = values[other.arg_max()]
    return other if bool((~other | (values == second)).all()) else None


FEW_ROWS = 1024
"""The first rows `two_values` looks at before the whole column."""


DENSE = 1 << 16
"""Up to this many possible combinations (or the rows' number), `distinct_lookup` finds each
row's combination in a table of them all by a gather, not a join."""


CODE = "\0code"
"""The column of each combination's code in the frame `make` gets."""


def distinct_codes(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(`index`, `distinct`): `values`' distinct values, each once (null too), in the order of
    their first rows, and each row's position among them (UInt32, never null): what an
    importer works out once per distinct value is spread over a million rows by gathering
    (`worked_out.gather(index)`), each string hashed once (a Categorical of its own, let go
    when done) rather than again by a join (a third of the cost, on Upwork's types)."""
    import polars as pl

    codes = values.cast(pl.Categorical(pl.Categories.random())).to_physical()
    first = codes.arg_unique()  # each distinct value's first row, in file order
    found = codes.gather(first)
    present = found.len() - found.null_count()
    if present and found.max() != present - 1:  # codes not 0..k-1: by the strings
        return _joined_codes(values)
    if present == found.len() and found.is_sorted():  # no null, codes 0..k-1 in the order
        return codes, values.gather(first)  # of the first rows: each row's code is its
        # position (the usual answer: no copy of the codes, no gather, 0.005 s each)
    position = pl.Series(range(found.len()), dtype=pl.UInt32)
    slots = pl.repeat(0, present + 1, dtype=pl.UInt32, eager=True) \
        .scatter(found.fill_null(present), position)  # code (null last) -> position
    return slots.gather(codes.fill_null(present)), values.gather(first)


def _joined_codes(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """`distinct_codes` by a join of the strings (where the codes are not what it expects)."""
    distinct = values.unique(maintain_order=True)
    table = distinct.to_frame("v").with_row_index("i")
    index = values.to_frame("v").join(table, on="v", how="left", maintain_order="left",
                                      nulls_equal=True).get_column("i")
    return index, distinct
