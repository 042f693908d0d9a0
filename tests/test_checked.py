"""The ids' check skipped on a file a full check passed on (ledger.store.checked): the same
rows either way, and a replaced or rewritten ledger file is still checked in full and refused
with the message it always had."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from ledger.core import schema
from ledger.core.errors import DataError
from ledger.store import checked
from ledger.store.directory import LOG_MARK, Ledger
from tests.test_cli import import_demo, run


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    return import_demo(tmp_path_factory.mktemp("seed"))


@pytest.fixture
def ledger(seeded: Path, tmp_path: Path) -> Path:
    root = tmp_path / "led"
    shutil.copytree(seeded, root)
    return root


def _with_a_repeated_id(root: Path) -> str:
    """Rewrite the ledger file as a foreign hand would: same columns and marks, the second
    row's id set to the first's. Returns that id."""
    path = root / "ledger.parquet"
    rows = pl.read_parquet(path)
    marks = pl.read_parquet_metadata(path)
    first = rows["id"][0]
    rows = rows.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(first))
                             .otherwise(pl.col("id")).alias("id"))
    rows.write_parquet(path, metadata={k: v for k, v in marks.items()
                                       if k in (LOG_MARK, schema.VERSION_MARK)})
    return first


def test_an_import_vouches_for_the_file_it_wrote(ledger):
    assert checked.known(ledger, checked.stamp(ledger / "ledger.parquet"))


def test_the_rows_are_the_same_with_or_without_the_note(ledger):
    fast = Ledger(ledger).stored_rows()
    (ledger / checked.NAME).unlink()
    slow = Ledger(ledger).stored_rows()
    assert fast.equals(slow) and fast.height
    assert checked.known(ledger, checked.stamp(ledger / "ledger.parquet"))  # noted again


def test_the_skip_is_real(ledger):
    """Without the full check, rows that repeat an id pass: so the note must never vouch for
    another file (the tests below)."""
    rows = schema.conform(pl.read_parquet(ledger / "ledger.parquet"))
    twice = pl.concat([rows, rows.head(1)])
    schema.validate(twice, "x", ids_known=True)
    with pytest.raises(DataError, match="two rows share the id"):
        schema.validate(twice, "x")


@pytest.mark.parametrize("noted", [True, False])
def test_a_replaced_file_is_refused_as_before(ledger, noted):
    """With the note of the file it replaced (or none), a file whose ids repeat is refused with
    the same message and exit code, and nothing vouches for it afterwards."""
    assert checked.known(ledger, checked.stamp(ledger / "ledger.parquet"))
    if not noted:
        (ledger / checked.NAME).unlink()
    repeated = _with_a_repeated_id(ledger)
    result = run("--ledger", ledger, "report", "--year", "2024", cwd=ledger.parent)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"{ledger / 'ledger.parquet'}:")
    assert f"two rows share the id {repeated}" in result.stderr
    assert not checked.known(ledger, checked.stamp(ledger / "ledger.parquet"))


def test_a_note_names_a_file_by_its_bytes(ledger, tmp_path):
    """The stamp follows the content: a copy keeps it, a rewrite of the same rows (another
    footer) does not, and a file that is not Parquet has none."""
    path = ledger / "ledger.parquet"
    copy = tmp_path / "copy.parquet"
    shutil.copyfile(path, copy)
    assert checked.stamp(copy) == checked.stamp(path)
    pl.read_parquet(path).write_parquet(copy, compression="zstd")
    assert checked.stamp(copy) != checked.stamp(path)
    copy.write_bytes(b"not parquet")
    assert checked.stamp(copy) is None
    assert not checked.known(ledger, None)
