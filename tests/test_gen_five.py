"""bench/gen_five.py: the 5-year ledger of the everyday bench is six real imports over 2021-2025."""

from __future__ import annotations

import datetime as dt

import polars as pl


def test_six_exports_import_over_five_years(tmp_path, monkeypatch):
    """Every export is read by its importer (rows > 0) and the ledger spans 2021 to 2025: a
    generator that lost its start date or a layout an importer no longer reads fails here."""
    from bench import gen_five
    from importers.base import ImportOptions
    from ledger.store.directory import Ledger

    monkeypatch.setattr(gen_five, "SIZES", {k: 60 for k in gen_five.SIZES})
    files = gen_five.write_five(tmp_path / "exports")
    root = tmp_path / "ledger"
    root.mkdir()
    (root / "ledger.toml").write_text(gen_five.LEDGER_TOML)
    ledger = Ledger(root)
    ledger.import_files(files, ImportOptions(today=dt.date(2026, 1, 15)))
    rows = pl.read_parquet(root / "ledger.parquet")
    sources = rows.get_column("source").str.split(":").list.first().unique().to_list()
    assert len(files) == 6 and len(set(sources)) >= 5, sources
    days = rows.get_column("date")
    assert days.min() < dt.date(2021, 3, 1) and days.max() > dt.date(2025, 10, 1)


def test_default_spans_unchanged():
    """The existing callers' exports keep their 2024 year (and so their bytes)."""
    from bench.generate import write_paypal

    assert write_paypal.__defaults__[1:] == (dt.date(2024, 1, 1), 366)
