"""The Upwork import's cheaper passes (issue 23) give what the plain ones gave: types and
invoices spread by gathering (csv_parts.distinct_codes) rather than joined, Ref IDs read
without a regex where Upwork writes them plainly, a large file's parts read in their own
chunks."""

from __future__ import annotations

import polars as pl

from importers import csv_parts, raw_files, readers, registry, upwork
from importers.base import lookup

TEXTS = ["Service Fee - Ref ID 123", "Service Fee - Ref ID 12a3", "Service Fee - Ref ID  77",
         "Service Fee - Ref ID \u0661\u0662", "Service Fee - Ref ID 5 Ref ID 6",
         "Service Fee - Ref ID x, Ref ID 9", "Service Fee - Ref ID ", "Service Fee - Ref ID",
         "Fee Ref ID9", "Ref ID\t42 more", "ref id 5", "Service Fee - Ref ID 0012", "", None,
         "Invoice for 01/01/2024-01/07/2024 - 10:30 hrs @ $20.00/hr", "2.5 hrs", "Connects",
         "Service Fee - Ref ID 8\n", "Service Fee - Ref ID 1\u00a0"]


def test_distinct_codes_are_the_values_positions_among_them_in_first_row_order():
    for values in (pl.Series(["b", "a", None, "b", "c", "a", None]), pl.Series(["x"] * 3),
                   pl.Series([None, None], dtype=pl.String), pl.Series([], dtype=pl.String),
                   pl.Series(TEXTS * 3)):
        index, distinct = csv_parts.distinct_codes(values)
        assert distinct.gather(index).equals(values)
        assert distinct.to_list() == values.unique(maintain_order=True).to_list()
        joined_index, joined = csv_parts._joined_codes(values)  # the way round by strings
        assert index.equals(joined_index) and distinct.equals(joined)
        assert index.dtype == pl.UInt32 and index.null_count() == 0


def test_related_refs_are_what_the_regex_extracts():
    texts = pl.Series(TEXTS * 2)
    assert upwork._fee_refs(texts)[0].equals(texts.str.extract(r"Ref ID\s*(\d+)", 1))
    none = pl.Series(["Withdrawal", None], dtype=pl.String)
    assert upwork._fee_refs(none)[0].to_list() == [None, None]


def _classified_by_joins(df: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """upwork._classified as it was (809bbb5): each type and invoice looked up by a join."""
    mapping = pl.DataFrame({"_type": list(upwork.TYPES),
                            "kind": [k for k, _ in upwork.TYPES.values()],
                            "category": [c for _, c in upwork.TYPES.values()]})
    types = df.select(pl.col("type").unique()).with_columns(
        _type=pl.col("type").str.strip_chars().str.to_lowercase())
    df = lookup(df, types.join(mapping, on="_type", how="left"), ["type"])
    unknown = df.filter(pl.col("kind").is_null())
    warnings = []
    if unknown.height:
        kinds = sorted({t or "(blank)" for t in unknown["_type"].to_list()})
        warnings.append(f"{unknown.height} row(s) of unknown type {kinds} imported as kind "
                        "'other'; check them with `ledger transactions --kind other`")
    hourly = pl.col("category") == "hourly"
    invoices = df.select(pl.col("description").filter(hourly).unique())
    df = lookup(df, invoices.with_columns(_hours=upwork._hours(pl.col("description"))),
                ["description"])
    connects = pl.when(pl.col("kind") == "platform_fee").then(pl.col("description")) \
        .str.contains(upwork.CONNECTS)
    return df.with_columns(
        kind=pl.col("kind").fill_null("other"),
        category=pl.when((pl.col("kind") == "platform_fee") & connects)
        .then(pl.lit("connects")).otherwise(pl.col("category").fill_null(pl.col("_type"))),
        currency=pl.lit("USD"),
        hours=pl.when(hourly).then(pl.col("_hours")).otherwise(None),
        related_ref=pl.col("description").str.extract(r"Ref ID\s*(\d+)", 1),
        contract=pl.lit(None, dtype=pl.String),
    ).drop("_hours", "_type"), warnings


def test_classified_by_gathering_is_classified_by_joins():
    types = ["Hourly", " service fee", "SERVICE FEE", "Mystery", None, "hourly ", "Bonus",
             "Connects", "Withdrawal", ""]
    count = len(TEXTS) * len(types)
    df = pl.DataFrame({"type": [t for t in types for _ in TEXTS],
                       "description": [d if d is not None else "" for d in TEXTS] * len(types),
                       "n": range(count)})
    for frame in (df, df.head(0), df.filter(pl.col("type") == "Bonus")):
        fast, warned = upwork._classified(frame)
        slow, slow_warned = _classified_by_joins(frame)
        assert warned == slow_warned
        assert fast.with_columns(pl.col("kind").cast(pl.String)).equals(slow)


def test_a_large_tables_parts_keep_their_chunks_aligned(tmp_path, monkeypatch):
    """Each part's line column is cut like the part's columns: `select` then copies no
    cell to align them, and the table is the one read at once."""
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
    path = tmp_path / "table.csv"
    path.write_text("Line,Description,Amount\n"
                    + "".join(f'{i},"desc {i}",{i}.50\n' for i in range(2, 3000)))
    whole = readers.read_table(registry.read(path)).df
    monkeypatch.setattr(csv_parts, "PART_BYTES", 2000)
    part = pl.concat([pl.DataFrame({"a": ["x"] * 3}), pl.DataFrame({"a": ["y"] * 4})],
                     rechunk=False)
    line = csv_parts.chunked_like(part, pl.Series(range(7)))
    assert line.chunk_lengths() == [3, 4] and line.to_list() == list(range(7))
    assert readers.read_table(registry.read(path)).df.equals(whole)
