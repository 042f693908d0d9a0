"""Reading a large CSV body a part at a time (importers.readers.read_table's large files).

A million-row export read at once holds every cell of every column as strings beside the
file's bytes: a large import's peak memory. Read a part at a time, each part's columns that
the importer does not read are let go as soon as the part is checked, and the polars reader's
own buffers are a part's, not the file's. Also what every table reader does to its cells:
the empty-row filter (`without_empty_rows`) and trimmed text (`trimmed`).
"""

from __future__ import annotations

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


def trimmed(df: pl.DataFrame, column: pl.Expr, blank_is_null: bool) -> pl.Series:
    """`column`'s text trimmed (`importers.base.nonblank` where `blank_is_null`): the column
    itself where trimming changes no cell (nor leaves one empty, where that makes it null),
    as in an export as written: the trimmed copy of a million strings is let go at once
    rather than held in place of the table's own."""
    import polars as pl

    values = df.with_columns(column.alias("_v"))["_v"]  # (with_columns: a literal fills rows)
    if not values.str.contains(EDGE_SPACE).any():  # nothing to trim: a test per cell rather
        # than a trimmed copy of the column made and let go (a large import's peak memory)
        length = values.str.len_bytes()
        if blank_is_null and (length == 0).any():
            return values.zip_with(length > 0, pl.Series([None], dtype=pl.String))
        return values
    stripped = values.str.strip_chars()
    length = stripped.str.len_bytes()
    changed = (length != values.str.len_bytes()).any()
    if blank_is_null and (length == 0).any():
        return stripped.zip_with(length > 0, pl.Series([None], dtype=pl.String)).alias("_v")
    return stripped if changed else values


PART_BYTES = 16 * 1024 * 1024
"""How much of a large file's body `read_parts` gives polars at a time."""


def read_parts(body: bytes, start: int, sep: str, names: list[str], named: list[str],
               keep: list[str], first_line: int, line_column: str) -> pl.DataFrame | None:
    """A large body (the header at `start`) read PART_BYTES at a time, each part's empty rows
    dropped and only its `keep` columns kept, with each row's line (`line_column`): the rows
    `read_table` reads, while the cells of every column of the whole file are never held at
    once (a large import's peak memory). None where the body is not cut in parts: it fits
    in one, a quoted cell would be cut, or polars refuses a part (the whole body is then read
    at once, and its error is reported as ever)."""
    from itertools import pairwise

    import polars as pl

    cuts = part_cuts(body, start)
    if cuts is None or len(cuts) < 3:
        return None
    header = body[start:cuts[1]].split(b"\n", 1)[0] + b"\n"  # read before each part: every
    frames, rows = [], 0  # part is read as the whole body is (its width, its blank lines)
    view = memoryview(body)  # each part's bytes copied once (a slice and `header +` twice)
    try:
        for index, (begin, end) in enumerate(pairwise(cuts)):
            part = pl.read_csv(
                b"".join((b"" if index == 0 else header, view[begin:end])),
                infer_schema=False, separator=sep, has_header=True, new_columns=names,
                truncate_ragged_lines=False, raise_if_empty=False)
            line = pl.int_range(first_line + rows, first_line + rows + part.height,
                                eager=True, dtype=pl.Int64)
            rows += part.height
            frames.append(without_empty_rows(part.with_columns(line.alias(line_column)), named)
                          .select(*keep, line_column))
            del part
    except pl.exceptions.PolarsError:
        return None
    return pl.concat(frames)


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
