"""The ids a format proves distinct as it makes them (importers.base.known_key: every ref
a distinct number, `_unique_numbers`) are the ids of the slow path (the ref as key, the
registry hashing the ids to prove them distinct): a fast path that differed fails here."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from importers import base, registry, upwork
from importers.base import ImportOptions
from tests import golden


def _slow_unique(ids: pl.Series) -> bool:
    numbers = ids.cast(pl.Int64, strict=False)
    return numbers.null_count() == 0 and numbers.n_unique() == numbers.len()


@pytest.mark.parametrize("ids", [
    ["5", "4", "3"], ["3", "4", "5"], ["5", "5", "4"], ["3", "4", "4"], ["4", "3", "4"],
    ["1"], ["7", "x", "6"], ["9", None, "8"], ["2", "1", "3"], ["01", "1"], ["1", "3", "2", "4"],
])
def test_unique_numbers_is_the_slow_answer(ids: list[str | None]) -> None:
    series = pl.Series(ids, dtype=pl.String)
    assert base._unique_numbers(series) == _slow_unique(series)


UPWORK = sorted(p for p in golden.DATA.rglob("*.csv")
                if "broken" not in p.parts and "real" not in p.parts
                and (upwork.detect_classic(registry.read(p))
                     or upwork.detect_new(registry.read(p))))


def test_there_are_upwork_exports() -> None:
    assert UPWORK


@pytest.mark.parametrize("path", UPWORK, ids=lambda p: p.name)
def test_upwork_ids_known_are_the_slow_ids(path, monkeypatch) -> None:
    raw = registry.read(path)
    options = ImportOptions(today=dt.date(2030, 1, 1))
    fast = registry.parse(raw, options)
    monkeypatch.setattr(upwork, "known_key", lambda df, parts: None)
    slow = registry.parse(raw, options)
    assert not slow.ids_distinct
    assert fast.rows.equals(slow.rows)
    if fast.ids_distinct:  # proven: so the registry's own check holds too
        assert fast.rows["id"].n_unique() == fast.rows.height


def test_a_newest_first_export_takes_the_fast_path(tmp_path) -> None:
    lines = ["Date,Ref ID,Type,Description,Amount,Balance"]
    balance = 100
    rows = []
    for ref in range(10, 0, -1):  # newest first, as Upwork writes it
        rows.append(f'"Jun {ref}, 2024",{600 + ref},Hourly,Invoice for work,10.00,{balance}')
        balance -= 10
    path = tmp_path / "upwork.csv"
    path.write_text("\n".join(lines + rows) + "\n")
    raw = registry.read(path)
    options = ImportOptions(today=dt.date(2030, 1, 1))
    fast = registry.parse(raw, options)
    assert fast.ids_distinct and fast.rows.height == 10
