"""The user's rules (ledger.core.user_rules) written into the rows they apply to.

Each rule's rows are found by `user_rules.hits` (or kept between commands by
ledger.store.rule_hits); here which rules apply follows from the first matching rule without
`continue`, and each set column is written with one scatter per rule and chunk of the rows, in
the chunks the rows were read in (a column with other chunk boundaries than its neighbours
makes every later filter and join realign them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.core.user_rules import ORIGIN, hits

if TYPE_CHECKING:
    import polars as pl

    from ledger.core.user_rules import UserRule


def apply(rows: pl.DataFrame, rules: list[UserRule],
          found: list[pl.Series] | None = None) -> pl.DataFrame:
    """`rows` with the rules applied (columns, dtypes, order and chunks unchanged).

    Each rule's rows are found once (`hits`, unless the caller has them: `found`, as
    ledger.store.rule_hits keeps them between commands); which rules apply follows from the first
    matching rule without `continue`, and each set column is written with one scatter per
    rule and chunk (`_scattered`): work proportional to the rows the rules touch, not to
    rows x rules."""
    if not rules or rows.is_empty():
        return rows
    import polars as pl

    found = hits(rows, rules) if found is None else found
    where = _applying(rows.height, rules, found)
    edits: dict[str, list[tuple[pl.Series, Any]]] = {}
    for i, rule in enumerate(rules):  # in rule order: a later rule's value wins (continue)
        if where[i].len():
            for column, value in rule.sets.items():
                edits.setdefault(column, []).append((where[i], value))
    cuts: dict[int, list[pl.Series]] = {}  # each rule's rows cut into the chunks once
    changed = {column: _scattered(rows[column], parts, rows, cuts)
               for column, parts in edits.items()}
    if any(rule.cont for rule in rules):
        ids = pl.repeat(None, rows.height, dtype=pl.String, eager=True)
        for i, rule in enumerate(rules):
            if where[i].len():
                before = ids.gather(where[i])
                joined = pl.select(pl.when(before.is_null()).then(pl.lit(rule.id))
                                   .otherwise(before + f"+{rule.id}")).to_series()
                ids = ids.scatter(where[i], joined)
        origin = pl.select(pl.when(ids.is_not_null()).then(ORIGIN + ids)
                           .otherwise(rows["origin"])).to_series()
        changed["origin"] = _chunked_like(origin, rows)
    else:  # one rule per row: the one that stopped there
        changed["origin"] = _scattered(rows["origin"], [
            (where[i], ORIGIN + rule.id) for i, rule in enumerate(rules) if where[i].len()],
            rows, cuts)
    return rows.with_columns(series.alias(name) for name, series in changed.items())


def _applying(height: int, rules: list[UserRule], found: list[pl.Series]) -> list[pl.Series]:
    """Per rule, the sorted row numbers it applies to: those it matches that no earlier
    matching rule without `continue` took. The rows taken are a bitmap (1M rows: 125 KB,
    not the 4 MB of a rule number per row)."""
    import polars as pl

    taken: pl.Series | None = None
    where = []
    last = max((i for i, index in enumerate(found) if index.len()), default=-1)
    for i, (rule, index) in enumerate(zip(rules, found, strict=True)):
        if taken is not None and index.len():
            index = index.filter(~taken.gather(index))
        where.append(index)
        if not rule.cont and index.len() and i < last:  # a later rule has rows to take
            if taken is None:
                taken = pl.repeat(False, height, eager=True)
            taken = taken.scatter(index, True)
    return where


def _scattered(column: pl.Series, parts: list[tuple[pl.Series, Any]], rows: pl.DataFrame,
               cuts: dict[int, list[pl.Series]]) -> pl.Series:
    """`column` of `rows` with each (sorted row numbers, value) of `parts` written in turn (a
    later part's value wins), in the chunks of `rows`' columns.

    A frame read from Parquet holds one chunk per row group; a column with other chunk
    boundaries than its neighbours makes every later filter and join of the frame realign
    them (measured: half a second per report on a million rows). Scattering into the whole
    column would first copy its chunks into one (for a string column ~0.01 s CPU a million
    rows, as much as the scatter) and then cut it back (`_chunked_like`): a column already in
    the frame's chunks is written chunk by chunk instead, each chunk copied once. `cuts`
    keeps each part's row numbers as cut into the chunks (`_cut`), for the next column."""
    import polars as pl

    chunks = column.get_chunks()
    layout = _layout(rows)
    if len(chunks) == 1 or [c.len() for c in chunks] != layout:
        for index, value in parts:
            column = column.scatter(index, value)
        return _chunked_like(column, rows)
    pieces = []
    values = [(cuts.setdefault(id(index), _cut(index, layout)),
               pl.Series([value], dtype=column.dtype)) for index, value in parts]
    for k, chunk in enumerate(chunks):
        for local, value in values:
            if local[k].len():
                chunk = chunk.scatter(local[k], value)
        pieces.append(chunk)
    return pl.concat(pieces, rechunk=False)


def _cut(index: pl.Series, layout: list[int]) -> list[pl.Series]:
    """Sorted row numbers `index` cut into chunks of `layout`'s lengths, each piece counted
    from its chunk's first row."""
    import polars as pl

    starts = [0]
    for length in layout:
        starts.append(starts[-1] + length)
    at = index.search_sorted(pl.Series(starts, dtype=index.dtype)).to_list()
    return [index.slice(at[k], at[k + 1] - at[k]) - starts[k] for k in range(len(layout))]


def _layout(rows: pl.DataFrame) -> list[int]:
    """The chunk lengths of `rows`' first column held in several chunks ([] if none)."""
    first = next((c for c in rows.columns if rows[c].n_chunks() > 1), None)
    return [] if first is None else [chunk.len() for chunk in rows[first].get_chunks()]


def _chunked_like(series: pl.Series, rows: pl.DataFrame) -> pl.Series:
    """`series` (one chunk, as scatter leaves it) cut into the chunks of `rows`' columns (see
    `_scattered`). Slices are views: this costs nothing."""
    import polars as pl

    layout = _layout(rows)
    if not layout or [chunk.len() for chunk in series.get_chunks()] == layout:
        return series
    series = series.rechunk()  # cut otherwise (a column concat left whole, say): rare
    pieces, offset = [], 0
    for length in layout:
        pieces.append(series.slice(offset, length))
        offset += length
    return pl.concat(pieces, rechunk=False)
