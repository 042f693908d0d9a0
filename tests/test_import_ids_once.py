"""Ids are proven distinct once per file, by registry.parse on the file's rows as a whole
(issue 23: finalize and the commit each hashed a million ids again): a file whose rows share
an id is still refused with `file:line: two rows share the id`, also when its format joined
parts that finalize checked one by one, and nothing is written."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from importers import registry
from importers.base import ImportOptions
from ledger.core import schema
from ledger.core.errors import DataError
from tests.conftest import DATA

UPWORK = DATA / "upwork" / "classic.csv"


def _doubled(fmt):
    """`fmt` whose parse joins its rows to a copy of their first row (two finalized parts
    of one file sharing an id: each part alone has distinct ids)."""
    def parse(raw, options):
        parsed = fmt.parse(raw, options)
        parsed.rows = pl.concat([parsed.rows, parsed.rows.head(1)])
        parsed.ids_distinct = False  # joined parts: not one finalize of keys proven distinct
        return parsed

    return dataclasses.replace(fmt, parse=parse)


def test_a_file_whose_parts_share_an_id_is_refused_with_its_path_and_line():
    raw = registry.read(UPWORK)
    fmt = registry.detect(raw)
    rows = registry.parse(raw, ImportOptions()).rows
    with pytest.raises(DataError, match="two rows share the id") as caught:
        registry.parse(raw, ImportOptions(), fmt=_doubled(fmt))
    assert caught.value.path == str(UPWORK)
    assert caught.value.line == rows["line"][0]


def test_check_ids_is_validates_check_of_the_ids():
    rows = registry.parse(registry.read(UPWORK), ImportOptions()).rows
    assert schema.check_ids(rows, "x") is rows
    assert schema.check_ids(rows.clear(), "x").is_empty()
    twice = pl.concat([rows, rows.tail(1)])
    for check in (lambda: schema.validate(twice, "x"), lambda: schema.check_ids(twice, "x")):
        with pytest.raises(DataError, match=f"two rows share the id {rows['id'][-1]}"):
            check()


def test_an_import_of_such_a_file_writes_nothing(tmp_path, monkeypatch):
    from ledger.store.directory import Ledger

    fmt = _doubled(registry.detect(registry.read(UPWORK)))
    monkeypatch.setattr(registry, "detect", lambda raw, profile_dirs=(): fmt)
    ledger = Ledger(tmp_path / "ledger")
    with pytest.raises(DataError, match="two rows share the id"):
        ledger.import_files([UPWORK], ImportOptions(today=dt.date(2026, 1, 1)))
    assert not ledger.rows_path.exists()
    assert not list((tmp_path / "ledger").rglob("*.csv"))


def test_ids_are_sha256_hex_prefixes_held_in_their_own_buffer():
    """The copy that lets the 64-digit hex go (strip_chars) changes no id."""
    import hashlib

    keys = ["T1", "Ünïcode|ref", "", "x" * 300]
    df = pl.DataFrame({"source": "s", "account": "a", "ref": keys})
    ids = schema.with_ids(df)["id"].to_list()
    assert ids == [hashlib.sha256(f"s\x1fa\x1f{k}".encode()).hexdigest()[:schema.ID_HEX]
                   for k in keys]
