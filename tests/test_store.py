"""The ledger directory: nothing lost, nothing twice, and a failed import changes no byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core import files
from ledger.core.errors import DataError, UsageError
from ledger.store import directory as store
from tests.conftest import DATA, snapshot

UPWORK = DATA / "upwork" / "classic.csv"
PAYPAL = DATA / "paypal" / "activity-en.csv"


def test_import_archives_logs_and_writes_rows(ledger, options):
    [summary] = ledger.import_files([UPWORK], options)
    assert summary.added == 13 and summary.duplicates == 0
    archived = ledger.sources / f"{summary.import_id}.csv"
    assert archived.read_bytes() == UPWORK.read_bytes()
    [entry] = ledger.log()
    assert entry["file"] == "classic.csv" and entry["format"] == "upwork"
    assert entry["added"] == 13 and entry["archived"] == f"sources/{summary.import_id}.csv"
    assert ledger.rows().height == 13
    assert ledger.rows()["date"].is_sorted()


def test_reimport_adds_nothing(ledger, options):
    ledger.import_files([UPWORK, PAYPAL], options)
    before = ledger.rows()
    summaries = ledger.import_files([UPWORK, PAYPAL], options)
    assert [s.added for s in summaries] == [0, 0]
    assert [s.duplicates for s in summaries] == [13, 11]
    assert ledger.rows().equals(before)


def test_overlapping_export_adds_only_new_rows(ledger, options, tmp_path):
    lines = UPWORK.read_text().splitlines(keepends=True)
    older = tmp_path / "older.csv"  # the header and the 6 oldest rows (newest-first file)
    older.write_text(lines[0] + "".join(lines[-6:]))
    [first] = ledger.import_files([older], options)
    assert first.added == 6
    [second] = ledger.import_files([UPWORK], options)
    assert (second.added, second.duplicates) == (7, 6)
    assert ledger.rows().height == 13


def test_dry_run_writes_nothing(ledger, options):
    [summary] = ledger.import_files([UPWORK], options, dry_run=True)
    assert summary.added == 13
    assert not ledger.root.exists()


def test_bad_file_among_good_ones_writes_nothing(ledger, options, tmp_path):
    ledger.import_files([UPWORK], options)
    before = snapshot(ledger.root)
    bad = tmp_path / "bad.csv"
    bad.write_text(PAYPAL.read_text(encoding="utf-8-sig").replace('"1,250.00"', '"1,2x0.00"'))
    with pytest.raises(DataError):
        ledger.import_files([PAYPAL, bad], options)
    assert snapshot(ledger.root) == before


CHECKPOINTS = ["start", "archived", "before rename imports.jsonl", "logged",
               "before rename ledger.parquet", "committed"]


@pytest.mark.parametrize("step", CHECKPOINTS)
def test_failure_at_any_step_leaves_ledger_byte_identical(ledger, options, monkeypatch, step):
    ledger.import_files([UPWORK], options)
    before = snapshot(ledger.root)

    def fail(name):
        if name == step:
            raise OSError(f"injected failure at {name}")

    monkeypatch.setattr(files, "checkpoint", fail)
    with pytest.raises(OSError, match="injected"):
        ledger.import_files([PAYPAL], options)
    assert snapshot(ledger.root) == before
    monkeypatch.undo()
    [summary] = ledger.import_files([PAYPAL], options)
    assert summary.added == 11


def test_every_log_entry_names_the_ledger_it_produced(ledger, options):
    import hashlib

    ledger.import_files([UPWORK], options)
    ledger.import_files([PAYPAL], options)
    last = ledger.log()[-1]
    assert last["ledger_sha256"] == hashlib.sha256(ledger.rows_path.read_bytes()).hexdigest()


def test_undo_removes_one_import_and_keeps_shared_rows(ledger, options, tmp_path):
    lines = UPWORK.read_text().splitlines(keepends=True)
    older = tmp_path / "older.csv"
    older.write_text(lines[0] + "".join(lines[-6:]))
    [first] = ledger.import_files([older], options)
    [second] = ledger.import_files([UPWORK], options)
    ledger.import_files([PAYPAL], options)
    entry = ledger.undo(first.import_id[:10])
    assert entry["removed"] == 0  # its 6 rows are also in the full export
    assert ledger.rows().height == 24
    entry = ledger.undo(second.import_id)
    assert entry["removed"] == 13
    assert set(ledger.rows()["source"].unique()) == {"paypal"}
    with pytest.raises(UsageError):
        ledger.undo(second.import_id)


def test_rebuild_reproduces_the_same_rows(ledger, options):
    ledger.import_files([UPWORK, PAYPAL], options)
    before = ledger.rows()
    result = ledger.rebuild()
    assert result["rows"] == before.height
    assert ledger.rows().equals(before)


def test_rebuild_keeps_import_options(ledger, tmp_path):
    from importers.base import ImportOptions

    ambiguous = tmp_path / "pp.csv"
    text = PAYPAL.read_text(encoding="utf-8-sig")
    ambiguous.write_text(text.replace("15/06/2024", "11/06/2024")
                         .replace("14/06/2024", "10/06/2024")
                         .replace("13/06/2024", "10/06/2024"))
    with pytest.raises(DataError, match="day-first or month-first"):
        ledger.import_files([ambiguous], ImportOptions())
    ledger.import_files([ambiguous], ImportOptions(date_order="dmy"))
    before = ledger.rows()
    ledger.rebuild()
    assert ledger.rows().equals(before)


def test_damaged_ledger_file_is_a_clear_error(ledger, options):
    ledger.import_files([UPWORK], options)
    ledger.rows_path.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read the ledger") as info:
        ledger.rows()
    assert "ledger rebuild" in info.value.hint
    ledger.rebuild()
    assert ledger.rows().height == 13


def test_resolve_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGER_DIR", str(tmp_path / "env"))
    assert store.resolve_dir(tmp_path / "opt") == tmp_path / "opt"
    assert store.resolve_dir(None) == tmp_path / "env"
    monkeypatch.delenv("LEDGER_DIR")
    assert "freelance-ledger" in str(store.resolve_dir(None))


def test_log_lines_are_json(ledger, options):
    ledger.import_files([UPWORK], options)
    for line in ledger.log_path.read_text().splitlines():
        assert json.loads(line)["event"] == "import"


def test_failed_first_import_leaves_no_directory(ledger, options, tmp_path):
    """The archive copy is written while files are parsed; a failure removes it and the
    directories made for it."""
    bad = tmp_path / "bad.csv"
    bad.write_text(PAYPAL.read_text(encoding="utf-8-sig").replace('"1,250.00"', '"1,2x0.00"'))
    with pytest.raises(DataError, match="is not a number"):
        ledger.import_files([PAYPAL, bad], options)
    assert not ledger.root.exists()


def test_archive_copies_leave_no_temporary_files(ledger, options):
    summaries = ledger.import_files([UPWORK, PAYPAL], options)
    names = sorted(p.name for p in ledger.sources.iterdir())
    assert names == sorted(f"{s.import_id}.csv" for s in summaries)
    for summary, path in zip(summaries, [UPWORK, PAYPAL], strict=True):
        archived = ledger.sources / f"{summary.import_id}.csv"
        assert archived.read_bytes() == path.read_bytes()
        assert archived.stat().st_mode & 0o222 == 0  # read-only


def test_archive_copy_cleared_meanwhile_is_written_at_commit(ledger, options, monkeypatch):
    """A concurrent `doctor` may clear temporary files: the commit then writes the copy."""
    def write_then_lose(path, data):
        path.write_bytes(data)
        path.unlink()
        return path

    monkeypatch.setattr(files, "write_unsynced", write_then_lose)
    [summary] = ledger.import_files([UPWORK], options)
    assert (ledger.sources / f"{summary.import_id}.csv").read_bytes() == UPWORK.read_bytes()


def test_disk_error_while_archiving_is_a_clear_error_and_changes_nothing(ledger, options,
                                                                         monkeypatch):
    import errno

    ledger.import_files([UPWORK], options)
    before = snapshot(ledger.root)

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(files, "write_unsynced", full)
    with pytest.raises(DataError, match="cannot write to the ledger: No space left on device"):
        ledger.import_files([PAYPAL], options)
    assert snapshot(ledger.root) == before


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["memo", "status Pending", "status Denied", "hold"]),
                max_size=30), st.randoms())
def test_skipped_counts_do_not_depend_on_row_order(reasons, rng):
    """An import's `skipped` summary is the same dict, in the same order, however the rows
    are ordered (polars' value_counts order varies from run to run)."""
    import polars as pl

    from importers.base import counts

    shuffled = list(reasons)
    rng.shuffle(shuffled)
    got = counts(pl.Series(reasons, dtype=pl.String))
    assert list(counts(pl.Series(shuffled, dtype=pl.String)).items()) == list(got.items())
    expected = sorted({r: reasons.count(r) for r in set(reasons)}.items(),
                      key=lambda kv: (-kv[1], kv[0]))
    assert list(got.items()) == expected
