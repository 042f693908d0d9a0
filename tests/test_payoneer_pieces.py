"""Payoneer's table as polars reads a large file, in pieces (read_table's `chunked`): the
columns `_fields` only casts into codes are not first copied into one piece
(payoneer._in_one_piece, payoneer_fields.PIECED), and the kinds' keys read by the kinds alone
are no fields (their distinct values, read from their codes). Each variant of the fixture
parsed from a table cut into pieces gives what the table in one piece gives: the rows,
warnings, skipped counts, errors and their lines."""

from __future__ import annotations

from itertools import pairwise

import polars as pl
import pytest

from importers import payoneer, payoneer_kinds, registry
from importers.base import ImportOptions
from tests.conftest import DATA
from tests.test_payoneer_distinct import (
    VARIANTS,
    _parsed,
    _same_parse,
    _shapes_frame,
    _variant,
)


def _cut(df: pl.DataFrame) -> pl.DataFrame:
    """`df` in three pieces, every column cut alike (as polars reads a large file)."""
    cuts = [0, df.height // 3, 2 * df.height // 3, df.height]
    return pl.concat([df.slice(a, b - a) for a, b in pairwise(cuts)], rechunk=False)


def _in_pieces(monkeypatch) -> list[pl.DataFrame]:
    """Make `payoneer.parse` read its tables in pieces; the tables read are listed."""
    real, read = payoneer.read_table, []

    def pieced(raw, header_index=0, **kwargs):
        table = real(raw, header_index, **kwargs)
        table.df = _cut(table.df)
        read.append(table.df)
        return table

    monkeypatch.setattr(payoneer, "read_table", pieced)
    return read


@pytest.mark.parametrize("name", list(VARIANTS))
def test_parse_of_a_table_in_pieces_is_parse_of_one_in_one_piece(name, tmp_path, monkeypatch):
    path = _variant(tmp_path, name)
    for options in (ImportOptions(), ImportOptions(date_order="dmy")):
        whole = _parsed(path, options)
        with monkeypatch.context() as patch:
            read = _in_pieces(patch)
            pieced = _parsed(path, options)
        assert read and read[0].n_chunks() == 3, name
        _same_parse(whole, pieced, name)
        if isinstance(pieced[0], pl.DataFrame):
            assert all(n == 1 for n in pieced[0].n_chunks("all")), name


@pytest.mark.parametrize("name", ["transactions-17col.csv", "transactions-12col.csv"])
def test_fields_of_a_table_in_pieces_are_each_one_piece(name):
    """The fields made of cells in pieces are each one piece (a frame of columns cut
    differently would be copied whole by the next query), but the statuses, the same as of
    one piece; the keys left out of the fields are their distinct values, the codes their
    positions."""
    raw = registry.read(DATA / "payoneer" / name)
    formats = ["%m/%d/%Y", "%Y-%m-%d"]
    table = payoneer.read_table(raw, 0)
    whole = payoneer._fields(table.df, table, raw.path, formats)
    table = payoneer.read_table(raw, 0)
    table.df = payoneer._in_one_piece(_cut(table.df))
    assert table.df.get_column("transaction date").n_chunks() == 3
    assert "time zone" not in table.df.columns
    keys: dict[str, pl.Series] = {}
    pieced = payoneer._fields(table.df, table, raw.path, formats, keys=keys)
    assert pieced.get_column("status").n_chunks() == 3  # (payoneer_fields._IN_PIECES)
    assert all(n == 1 for c, n in zip(pieced.columns, pieced.n_chunks("all"), strict=True)
               if c != "status")
    assert set(keys) == {"_store", "_source", "_target"}
    assert pieced.columns == [c for c in whole.columns if c not in keys]
    assert pieced.drop("_ts").equals(whole.drop(*keys, "_ts"))
    for key, values in keys.items():
        code = pieced[payoneer.CODED[key]]
        assert values.gather(code).equals(whole[key], check_names=False), key


def test_kinds_of_keys_given_as_values_are_kinds_of_the_strings():
    """`kinds` of keys that are no columns, only codes and their distinct values
    (csv_parts.distinct_lookup's `values`), answers as of the strings themselves."""
    from importers import payoneer_fields

    df = _shapes_frame()
    expected = payoneer_kinds.kinds(df)
    codes, values = {}, {}
    for key, column in payoneer.CODED.items():
        codes[column], distinct = payoneer_fields._distinct(df[key])
        if key != "text":
            values[key] = distinct
    coded = df.with_columns(**codes).drop(*values)
    got = payoneer_kinds.kinds(coded, payoneer.CODED, values)
    assert got.equals(expected.drop(*values))


@pytest.mark.parametrize("name", list(VARIANTS))
def test_transfer_texts_of_plain_numbers_are_those_trimmed(name, tmp_path, monkeypatch):
    """The Transfer Amount's text is its cells as they are where each is a plain number
    (payoneer_fields._AMOUNT_TEXT), as trimming every cell gives: padded, blank and quoted
    empty cells take the trimming way."""
    from importers import payoneer_fields

    path = _variant(tmp_path, name)
    frames = []
    for shortcut in (True, False):
        with monkeypatch.context() as patch:
            if not shortcut:
                patch.setattr(payoneer_fields, "_AMOUNT_TEXT", {})
            frames.append(_parsed(path))
    _same_parse(*frames, name)
