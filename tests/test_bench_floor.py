"""bench/floor.py, the floor `make bench` holds each import against: the same ids as the import
(the target's promise: "keep the floor honest"), and, widened (`--ledger-width`), the ledger's
own columns and types, so that its row in `make bench` compares like with like."""

from __future__ import annotations

import polars as pl
import pytest

from bench import floor, gen_bank, gen_payoneer, generate
from importers import registry
from importers.base import ImportOptions
from ledger.core import schema

WRITERS = {"paypal": generate.write_paypal, "upwork": generate.write_upwork,
           "payoneer": gen_payoneer.write_payoneer, "hdfc": gen_bank.write_hdfc}


def test_ledger_columns_are_the_schemas():
    assert tuple(schema.columns()) == floor.LEDGER_COLUMNS


@pytest.mark.parametrize("layout", sorted(WRITERS))
def test_floor_ids_are_the_imports_and_widened_is_the_ledgers_shape(layout, tmp_path):
    export = tmp_path / f"{layout}.csv"
    WRITERS[layout](export, 300)
    stored = registry.parse(registry.read(export), ImportOptions()).rows
    floor.main(str(export), str(tmp_path / "narrow.parquet"), layout)
    floor.main(str(export), str(tmp_path / "wide.parquet"), layout, "--ledger-width")
    narrow = pl.read_parquet(tmp_path / "narrow.parquet")
    wide = pl.read_parquet(tmp_path / "wide.parquet")
    assert wide.schema == stored.schema  # the ledger's columns, order and types
    assert wide["id"].equals(narrow["id"])
    assert wide.drop("kind", "category", "counterparty", "hours", "related_ref",
                     "counter_amount", "counter_currency", "description").columns \
        == [c for c in stored.columns if c not in ("kind", "category", "counterparty", "hours",
                                                   "related_ref", "counter_amount",
                                                   "counter_currency", "description")]
    assert wide["id"].n_unique() == wide.height
    if layout != "hdfc":  # (the bank's floor builds its key from the same content, not the id)
        # the import's very ids (Payoneer's floor keeps its Pending rows too)
        assert set(stored["id"]) <= set(wide["id"])
    if layout != "payoneer":
        assert wide.height == stored.height
    for name in ("source", "account", "origin", "import_id", "currency"):
        assert set(wide[name]) == set(stored[name]), name


def test_floor_refuses_an_unknown_flag(tmp_path):
    with pytest.raises(SystemExit):
        floor.main("x.csv", str(tmp_path / "o.parquet"), "paypal", "--wide")
