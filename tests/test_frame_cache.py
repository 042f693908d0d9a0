"""The bundled reference rates kept as tables in the user cache (rules/frame_cache.py): a
kept table gives exactly what parsing the bundled files gives, is really read on the next
command, and a damaged, foreign or unwritable one is passed over."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

CURRENCIES = {"USD", "GBP", "PKR", "INR", "EUR", "BDT", "NGN"}
SPAN = (dt.date(2023, 12, 20), dt.date(2024, 7, 10))


def _fresh_process_state() -> None:
    """Forget what this process read (the caches of one command) so the next call reads
    the user cache folder, as the next command would."""
    from rules import fx_reference as fx

    for cached in (fx._ecb_source, fx._ecb_csv, fx._ecb_header, fx._ecb_wide, fx._ecb_has,
                   fx._nbp_table):
        cached.cache_clear()
    fx._ECB_COLUMNS.clear()


def _reference() -> pl.DataFrame:
    from rules.fx_reference import bundled_reference

    _fresh_process_state()
    return bundled_reference(CURRENCIES, *SPAN)


def _without_cache() -> pl.DataFrame:
    """The bundled rates parsed from the bundled files alone: no table is ever read back."""
    from rules import frame_cache

    original = frame_cache.read
    frame_cache.read = lambda path: None
    try:
        return _reference()
    finally:
        frame_cache.read = original


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _fresh_process_state()
    yield tmp_path / "freelance-ledger"
    _fresh_process_state()


def _tables(folder: Path) -> list[Path]:
    return sorted(folder.glob("*-pl*/*.arrow*"))  # the tables and the kept answers


def test_kept_tables_give_what_the_bundled_files_give_and_are_read_back(cache: Path,
                                                                         monkeypatch):
    from rules import frame_cache

    fresh = _without_cache()
    assert fresh.filter(pl.col("provider") == "nbp").height  # PKR, BDT, NGN: NBP's
    assert set(fresh.filter(pl.col("provider") == "ecb")["to"]) >= {"USD", "GBP", "INR"}
    first = _reference()  # builds and keeps the tables
    kept = _tables(cache)
    names = {p.name for p in kept}
    assert {"header.arrow", "USD.arrow", "GBP.arrow", "INR.arrow", "PKR.arrow"} <= names
    assert_frame_equal(first, fresh)
    reads = []
    original = frame_cache.read

    def counting(path: Path) -> pl.DataFrame | None:
        table = original(path)
        reads.append(table is not None)
        return table

    monkeypatch.setattr(frame_cache, "read", counting)
    monkeypatch.setattr(frame_cache, "write", lambda *a: pytest.fail("rebuilt a kept table"))
    again = _reference()  # the next command: every table read back, none rebuilt
    assert reads and all(reads)
    assert_frame_equal(again, fresh)


@pytest.mark.parametrize("damage", ["flip", "truncate", "foreign", "empty"])
def test_a_damaged_table_is_passed_over_and_kept_again(cache: Path, damage: str):
    fresh = _without_cache()
    _reference()
    for path in _tables(cache):
        data = path.read_bytes()
        path.write_bytes({"flip": data[:-40] + bytes([data[-40] ^ 0xFF]) + data[-39:],
                          "truncate": data[: len(data) // 2],
                          "foreign": b"PAR1" + data[4:],
                          "empty": b""}[damage])
    assert_frame_equal(_reference(), fresh)
    from rules import frame_cache

    assert all(frame_cache.read(path) is not None for path in _tables(cache))  # kept again


def test_an_unwritable_cache_folder_changes_nothing(tmp_path: Path, monkeypatch):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")  # the cache folder cannot be made under a file
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    fresh = _without_cache()
    try:
        assert_frame_equal(_reference(), fresh)
    finally:
        _fresh_process_state()


def test_nbp_days_outside_the_kept_span_are_asked_of_the_package(cache: Path):
    from rules import fx_reference as fx

    inside = fx._nbp_series("PKR", dt.date(2024, 5, 1), dt.date(2024, 6, 30))
    assert inside == fx._nbp_days("PKR", dt.date(2024, 5, 1), dt.date(2024, 6, 30))
    assert inside
    early = (dt.date(1989, 12, 1), dt.date(1990, 1, 31))
    assert fx._nbp_series("PKR", *early) == fx._nbp_days("PKR", *early)
    assert fx._nbp_table("XQQ") is None and fx._nbp_series("XQQ", *SPAN) == {}


@pytest.mark.parametrize("damage", [None, "flip", "truncate", "foreign"])
def test_the_kept_fee_schedule_is_the_parsed_file(cache: Path, damage: str | None, monkeypatch):
    """rules/data/fees.toml as kept (pickled) is exactly the file parsed, and is read back;
    a damaged copy is parsed again."""
    import pickle

    from rules import fee_schedule, frame_cache

    fresh = fee_schedule._parsed(fee_schedule.BUNDLED.read_bytes())
    fee_schedule._bundled_raw.cache_clear()
    try:
        assert fee_schedule._bundled_raw() == fresh
        [kept] = cache.glob("fees-*/fees.pickle")
        data = kept.read_bytes()
        if damage is None:  # read back, not parsed again
            monkeypatch.setattr(fee_schedule, "_parsed", lambda text: pytest.fail("parsed"))
        elif damage == "foreign":  # checksummed, but not what was kept: another type
            frame_cache._keep(kept, pickle.dumps(["not", "a", "dict"]))
        else:
            kept.write_bytes({"flip": data[:-9] + bytes([data[-9] ^ 0x01]) + data[-8:],
                              "truncate": data[:-100]}[damage])
        fee_schedule._bundled_raw.cache_clear()
        again = fee_schedule._bundled_raw()
        assert again == fresh and repr(again) == repr(fresh)  # Decimal digits and dates too
        assert [repr(r) for r in fee_schedule.load_schedule().rules] == \
            [repr(r) for r in _schedule_of(fresh).rules]
        assert pickle.loads(frame_cache._unwrapped(kept)) == fresh  # (kept again if damaged)
    finally:
        fee_schedule._bundled_raw.cache_clear()


def _schedule_of(raw: dict):
    """The bundled schedule built from `raw` instead of the kept copy."""
    from rules import fee_schedule

    saved = fee_schedule._bundled_raw
    fee_schedule._bundled_raw = lambda: raw
    try:
        return fee_schedule.load_schedule()
    finally:
        fee_schedule._bundled_raw = saved
