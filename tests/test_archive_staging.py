"""The archive copy staged while an export is parsed must not hold the export's bytes while
the disk makes it wait (issue 23): a thread writing them held them, a file's size, for seconds
on a busy disk, on a large import's peak memory in some runs only."""

from __future__ import annotations

import os
import sys
import threading

from ledger.core import files


def test_staging_a_copy_keeps_no_reference_to_the_bytes(tmp_path, monkeypatch):
    data = b"x" * 1000 + os.urandom(8)  # a fresh object: only this test holds it
    seen: list[int] = []
    real_fsync = os.fsync
    staged = threading.Event()

    def references() -> int:
        return sys.getrefcount(data)

    def fsync(fd: int) -> None:
        staged.wait(10)  # counted once stage() has returned (its own argument let go)
        seen.append(references())
        real_fsync(fd)

    alone = references()

    monkeypatch.setattr(files.os, "fsync", fsync)
    stager = files.ArchiveStager(tmp_path / "sources")
    stager.stage("a.csv", data)
    staged.set()
    copy = stager.take("a.csv")  # (this thread leaves `data` alone until the fsync is done)
    assert seen == [alone]  # synced in the background, the bytes not held meanwhile
    assert references() == alone  # nothing of the stager's holds them
    assert copy is not None and copy.read_bytes() == data
    stager.close()


def test_a_copy_cleared_before_its_fsync_is_written_at_commit(tmp_path):
    stager = files.ArchiveStager(tmp_path / "sources")
    stager.pool.submit(lambda: None).result()
    stager.stage("a.csv", b"abc")
    stager.pool.shutdown(wait=True)  # synced (or found gone) by now
    copy = tmp_path / "sources" / f".a.csv.{os.getpid()}.staged.tmp"
    copy.unlink(missing_ok=True)
    assert stager.take("a.csv") is None  # the caller writes it itself
    assert files.synced(copy) == copy and not copy.exists()
    stager.close()
