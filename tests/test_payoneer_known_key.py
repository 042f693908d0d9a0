"""Payoneer's row keys given as parts proven distinct (importers.base.known_key) give the very
ids `with_key`'s joined column gives, and only such keys skip the registry's id check."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import importers.base as base
import importers.payoneer as payoneer
from importers import registry
from importers.base import ImportOptions

DATA = Path(__file__).parent / "data" / "payoneer"
FILES = sorted(DATA.glob("*.csv"))


def _parse(path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool):
    with monkeypatch.context() as patched:
        if not fast:
            patched.setattr(payoneer, "known_key", lambda df, parts, refs_distinct=False: None)
        return payoneer.parse(registry.read(path), ImportOptions())


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_known_key_gives_with_key_ids(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _parse(path, monkeypatch, True), _parse(path, monkeypatch, False)
    assert fast.rows.height and fast.rows.equals(slow.rows)
    assert fast.ids_distinct and not slow.ids_distinct
    assert fast.rows["id"].n_unique() == fast.rows.height


def test_repeated_or_missing_refs_are_not_known() -> None:
    df = pl.DataFrame({"ref": ["7", "8", "7"], "currency": ["USD"] * 3, "amount": ["1", "2", "1"]})
    parts = [pl.col("currency"), pl.col("amount")]
    assert base.known_key(df, parts) is None  # a repeat: with_key numbers it
    assert base.known_key(df.with_columns(ref=pl.Series(["7", None, "9"])), parts) is None
    assert base.known_key(df.with_columns(ref=pl.Series(["7", "x", "9"])), parts) is None
    distinct = df.with_columns(ref=pl.Series(["7", "8", "9"]))
    assert base.known_key(distinct.with_columns(currency=pl.Series(["USD", None, "EUR"])),
                          parts) is None  # a null part: the key would be null
    key = base.known_key(distinct, parts)
    assert key is not None and key.distinct
    keyed = base.with_key(distinct, parts)
    assert distinct.select(key.expr().alias("k"))["k"].equals(keyed["_key"].alias("k"))
