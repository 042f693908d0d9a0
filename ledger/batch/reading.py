"""A chunk's CSV tables read with one polars `read_csv` per header line, not one per file.

A research batch reads thousands of small exports; `importers.readers.read_table` costs a few
milliseconds per file whatever its size (a polars read, a check of each line's cells in
Python, a filter), about a fifth of a chunk's time. `read_tables` gives, for each file, the
table `read_table(raw, header_index)` gives, reading the files whose header lines are the same
bytes as ONE body (each file's rows after the others', a file column beside them) and checking
every line's cells with vectorised string functions; `tables_reading` hands it to the
importers' stacked readers (importers.stacked.MANY_TABLES) for the length of a chunk.

Only files where the two readings are sure to agree are read together: UTF-8 without a BOM, at
most `EXACT_SCAN_MAX_BYTES`, no NUL, CR only in CRLF, no empty line, and every line one record
whose cells are each quoted (with no quote or line break inside) or free of quotes, as many as
the header names. Any other file, and every file of a group polars refuses, is None: the
importer reads it alone, with its exact errors.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import polars as pl

    from importers.raw_files import RawFile
    from importers.readers import Table

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_FILE = "_f"


@contextmanager
def tables_reading() -> Iterator[None]:
    """While inside, the importers' stacked readers read their tables through `read_tables`."""
    from importers.stacked import MANY_TABLES

    token = MANY_TABLES.set(read_tables)
    try:
        yield
    finally:
        MANY_TABLES.reset(token)


def read_tables(raws: Sequence[RawFile], header_indexes: Sequence[int]
                ) -> list[Table | None]:
    """Per file: `read_table(raw, header_index)`'s table, or None (read it alone)."""
    out: list[Table | None] = [None] * len(raws)
    groups: dict[tuple[bytes, int], list[tuple[int, bytes]]] = {}
    for index, (raw, header_index) in enumerate(zip(raws, header_indexes, strict=True)):
        split = _split(raw, header_index)
        if split is not None:
            groups.setdefault((split[0], header_index), []).append((index, split[1]))
    for (header, header_index), members in groups.items():
        if len(members) < 2:
            continue  # nothing shared: read_table's own reading
        try:
            found = _read_group(header, members, raws, header_index)
        except Exception:  # polars refused the stack: each file alone says why
            continue
        for index, table in found.items():
            out[index] = table
    return out


def _split(raw: RawFile, header_index: int) -> tuple[bytes, bytes] | None:
    """(header line without its line end, body ending in a newline) of a file this module
    reads together with others; None for any other."""
    from importers.raw_files import EXACT_SCAN_MAX_BYTES

    data = raw.data
    if len(data) > EXACT_SCAN_MAX_BYTES or data.startswith(_BOMS) or b"\0" in data:
        return None
    start = 0
    for _ in range(header_index):
        start = data.find(b"\n", start) + 1
        if start == 0:
            return None
    end = data.find(b"\n", start)
    if end < 0 or end + 1 == len(data):
        return None  # no body: read_table's answer is cheap
    body = data[end + 1:]
    if not body.endswith(b"\n"):
        body += b"\n"
    if b"\n\n" in body or body.startswith((b"\n", b"\r\n")) or (b"\r" in body and (
            body.count(b"\r") != body.count(b"\r\n") or b"\n\r\n" in body)):
        return None
    return data[start:end].removesuffix(b"\r"), body


def _read_group(header_bytes: bytes, members: list[tuple[int, bytes]],
                raws: Sequence[RawFile], header_index: int) -> dict[int, Table]:
    import polars as pl

    from importers.csv_parts import without_empty_rows
    from importers.raw_files import normalize, sniff_delimiter, split_line
    from importers.readers import LINE, Table, unique_names

    header_line = header_bytes.decode("utf-8")
    sep = sniff_delimiter(header_line)
    header = [h.replace("\ufeff", "").strip() for h in split_line(header_line, sep)]
    width = len(header)
    while len(header) > 1 and not header[-1]:
        header.pop()
    names = unique_names([normalize(h) for h in header])
    names += [f"_blank#{i}" for i in range(width - len(header))]
    counts = [body.count(b"\n") for _, body in members]
    fits: list[bool | None] = [None] * len(members)
    if width == len(header):  # polars refuses a line with more cells than the header's
        fits = [_fit_by_counts(body, count, sep.encode(), width)
                for (_, body), count in zip(members, counts, strict=True)]
    ask = [at for at, fit in enumerate(fits) if fit is None]
    if ask:
        asked = _records_fit(b"".join(members[at][1] for at in ask), [counts[at] for at in ask],
                             sep, len(header))
        for at, fit in zip(ask, asked, strict=True):
            fits[at] = fit
    kept = [(member, count) for member, count, ok in zip(members, counts, fits, strict=True)
            if ok]
    if len(kept) < 2:
        return {}
    blob = b"".join([header_bytes, b"\n", *(body for (_, body), _ in kept)])
    df = pl.read_csv(blob, infer_schema=False, separator=sep, has_header=True,
                     new_columns=names, truncate_ragged_lines=False, raise_if_empty=False)
    if df.height != sum(count for _, count in kept):
        return {}
    if width > len(header):
        df = df.select(names[:len(header)])
    first_line = header_index + 2
    files = _file_column([count for _, count in kept])
    starts = pl.Series([0, *_running([count for _, count in kept])[:-1]], dtype=pl.Int64)
    line = pl.int_range(0, df.height, dtype=pl.Int64, eager=True) \
        - starts.gather(files) + first_line
    df = df.with_columns(line.alias(LINE), files)
    df = without_empty_rows(df, [c for c in df.columns if c not in (LINE, _FILE)])
    heights = df.group_by(_FILE).len()
    left = dict(zip(heights[_FILE].to_list(), heights["len"].to_list(), strict=True))
    df = df.drop(_FILE)
    named = dict(zip(names[:len(header)], header, strict=True))
    out, offset = {}, 0
    for at, ((index, _), _) in enumerate(kept):
        height = left.get(at, 0)
        out[index] = Table(df=df.slice(offset, height), header=header, path=raws[index].path,
                           delimiter=sep, names=dict(named))
        offset += height
    return out


def _file_column(counts: list[int]) -> pl.Series:
    """Each row's file (its position in `counts`, the files' row counts), as `_FILE`."""
    import polars as pl

    return pl.DataFrame({_FILE: range(len(counts)), "n": counts},
                        schema={_FILE: pl.Int32, "n": pl.Int64}).select(
        pl.col(_FILE).repeat_by("n").explode())[_FILE]


def _running(counts: list[int]) -> list[int]:
    total, out = 0, []
    for count in counts:
        total += count
        out.append(total)
    return out


def _fit_by_counts(body: bytes, lines: int, sep: bytes, cells: int) -> bool | None:
    """Whether each of the body's lines is one record of `cells` cells, told from the whole
    body's counts where it is free of quotes or every line is quoted cells only (PayPal's);
    None where only a look at each line can tell (`_records_fit`). Polars refuses any line
    with more cells than the header's, so where the whole body holds as many separators as
    `lines` records of `cells` cells, no line holds fewer."""
    quotes = body.count(b'"')
    if not quotes:
        return body.count(sep) == lines * (cells - 1)
    joint = b'"' + sep + b'"'
    joints = body.count(joint)
    starts = body.startswith(b'"') + body.count(b'\n"')
    ends = body.count(b'"\n') + body.count(b'"\r\n')
    if starts != lines or ends != lines or quotes != 2 * joints + 2 * lines \
            or body.startswith((b'"\n', b'"\r\n', joint)) or b'\n"\n' in body \
            or b'\n"\r\n' in body or b"\n" + joint in body or joint + b"\n" in body \
            or joint + b"\r\n" in body:
        return None
    # each line: a quote first and last (two of them), two per joint, so no other quote:
    # quoted cells only, one more than its joints
    return joints == lines * (cells - 1)


def _records_fit(bodies: bytes, counts: list[int], sep: str, cells: int) -> list[bool]:
    """Per file (`counts` lines each, in `bodies`): whether each line is one record of exactly
    `cells` cells, each quoted without a quote or line break inside, or free of quotes (the
    lines `read_table` reads cell for cell as polars does). Lines free of quotes and lines of
    quoted cells only (PayPal's) are told by counting; the others by a pattern."""
    import polars as pl

    line = pl.col("l")
    quotes = line.str.count_matches('"', literal=True)
    between = f'"{sep}"'  # in a line of quoted cells only, what separates two of them
    joints = line.str.count_matches(between, literal=True)
    plain = (quotes == 0) & (line.str.count_matches(sep, literal=True) == cells - 1)
    all_quoted = line.str.starts_with('"') & line.str.ends_with('"') \
        & ~line.str.starts_with(between) & ~line.str.ends_with(between) \
        & (quotes == 2 * joints + 2) & (joints == cells - 1)
    frame = pl.DataFrame([_lines(bodies, sum(counts)), _file_column(counts)])
    checked = frame.with_columns((plain | all_quoted).fill_null(False).alias("ok"))
    mixed = checked.filter(~pl.col("ok"))
    if mixed.height:
        s = re.escape(sep)
        quoted = '"[^"\r\n]*"'
        cell = f'(?:{quoted}|[^"{s}\r\n]*)'
        record = f"^{cell}(?:{s}{cell})*$"
        mixed = mixed.select(_FILE, (line.str.contains(record) & (line.str.replace_all(
            quoted, "x").str.count_matches(sep, literal=True) == cells - 1)).fill_null(False)
            .alias("ok"))
    bad = set(mixed.filter(~pl.col("ok"))[_FILE].to_list())
    return [at not in bad for at in range(len(counts))]


def _lines(bodies: bytes, count: int) -> pl.Series:
    """The first `count` lines of `bodies` (each ending in a newline), without line ends: one
    polars read of a single column (no quoting) where no unit separator is in the text."""
    import polars as pl

    if b"\x1f" in bodies:
        lines = pl.Series("l", [bodies.decode("utf-8")]).str.split("\n").explode()
    else:
        lines = pl.read_csv(bodies, has_header=False, separator="\x1f", quote_char=None,
                            new_columns=["l"], infer_schema=False)["l"]
    return lines.head(count).str.strip_suffix("\r").alias("l")
