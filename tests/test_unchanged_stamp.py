"""A large file polars read itself is proved unchanged by its `os.stat` (git's racy-git rule,
importers.raw_files.Stamp) instead of a second full hash, where that proves it; a file
changed during the read is still refused with the same message, and one written too
recently for its timestamps to tell is hashed again."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time

import pytest

from importers import raw_files, readers, registry
from ledger.core.errors import DataError
from tests.conftest import DATA

SOURCE = DATA / "payoneer" / "transactions-17col.csv"
LATER_NS = 60 * 10**9
"""How much later than its write the file is read, for a settled file (a test cannot set a
file's ctime back, so the read is moved forward instead)."""


@pytest.fixture
def large(tmp_path, monkeypatch):
    """The export, counted as a large file (polars reads it from disk), and a count of the
    sha256 hashes made from here on."""
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)
    path = tmp_path / SOURCE.name
    path.write_bytes(SOURCE.read_bytes())
    return path


def _counting(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = hashlib.sha256

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "sha256", counted)
    return calls


def _read(path, *, later: bool) -> raw_files.RawFile:
    raw = registry.read(path)
    assert raw.stamp is not None
    if later:
        raw.stamp = dataclasses.replace(raw.stamp, taken_ns=raw.stamp.taken_ns + LATER_NS)
    return raw


def _in_memory(path) -> readers.Table:
    data = SOURCE.read_bytes()
    return readers.read_table(raw_files.RawFile(path=path, data=data,
                                                sha256=hashlib.sha256(data).hexdigest()))


def test_an_old_unchanged_file_is_not_hashed_again(large, monkeypatch):
    raw = _read(large, later=True)
    calls = _counting(monkeypatch)
    table = readers.read_table(raw)
    assert "data" not in raw.__dict__  # polars read the file itself
    assert calls == []  # its stat proved it: no second hash
    assert table.df.equals(_in_memory(large).df)


def test_a_racily_fresh_file_is_hashed_again(large, monkeypatch):
    raw = _read(large, later=False)  # written just now: its timestamps cannot tell
    assert not raw.stamp.settled()
    calls = _counting(monkeypatch)
    table = readers.read_table(raw)
    assert calls == [1]
    assert table.df.equals(_in_memory(large).df)


def _refused(raw, path) -> None:
    with pytest.raises(DataError) as caught:
        readers.read_table(raw)
    assert caught.value.message == "the file changed while it was being imported"
    assert caught.value.hint == "import it again once it is no longer being written"
    assert str(caught.value).startswith(f"{path}: the file changed while it was being imported")


def _rewrite(path, data: bytes, mtime_ns: int) -> None:
    """Write `data` over `path` with `mtime_ns`, in a later tick of the file system's clock
    than the file's last write (the test stands for a write after the stamp: a real write in
    the stamp's own tick is the racy case, hashed)."""
    before = os.stat(path).st_ctime_ns
    for _ in range(300):
        time.sleep(0.01)
        path.write_bytes(data)
        os.utime(path, ns=(mtime_ns, mtime_ns))
        if os.stat(path).st_ctime_ns != before:
            return
    raise AssertionError("the file system's ctime did not move in 3 s")


def test_a_file_grown_during_the_read_is_refused(large):
    raw = _read(large, later=True)
    mtime = os.stat(large).st_mtime_ns
    _rewrite(large, SOURCE.read_bytes() + b"\n", mtime)  # even with its mtime put back
    _refused(raw, large)


def test_a_file_rewritten_to_the_same_size_with_a_new_mtime_is_refused(large):
    raw = _read(large, later=True)
    mtime = os.stat(large).st_mtime_ns
    _rewrite(large, SOURCE.read_bytes().replace(b"Payment", b"Paymenx", 1), mtime + 10**9)
    _refused(raw, large)


def test_a_file_rewritten_with_its_mtime_put_back_is_refused_by_its_ctime(large):
    raw = _read(large, later=True)
    mtime = os.stat(large).st_mtime_ns
    _rewrite(large, SOURCE.read_bytes().replace(b"Payment", b"Paymenx", 1), mtime)
    assert os.stat(large).st_size == raw.stamp.size  # size and mtime as stamped
    _refused(raw, large)


def test_the_stamp_compares_what_a_write_moves_and_not_when_it_was_taken(large):
    stamp = registry.read(large).stamp
    info = os.stat(large)
    assert stamp == raw_files.Stamp.of(info, 0)
    assert (stamp.size, stamp.mtime_ns, stamp.ctime_ns, stamp.ino, stamp.dev) == (
        info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
    settled = dataclasses.replace(stamp, taken_ns=max(stamp.mtime_ns, stamp.ctime_ns)
                                  + raw_files.RACY_NS)
    assert settled.settled() and settled.still(large)
    just = dataclasses.replace(settled, taken_ns=settled.taken_ns - 1)
    assert not just.settled() and not just.still(large)  # a write could hide in its tick
    assert not settled.still(large.with_name("gone.csv"))  # no such file: hash (and fail)
