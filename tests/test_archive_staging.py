"""The archive copy staged while an export is parsed must not hold the export's bytes
through its fsync (issue 23): on a busy disk the fsync takes seconds, and the bytes held
that long were a file's size on a large import's peak memory in some runs only."""

from __future__ import annotations

import os
import sys

from ledger.core import files


def test_the_staged_copy_lets_go_of_the_bytes_before_its_fsync(tmp_path, monkeypatch):
    data = b"x" * 1000 + os.urandom(8)  # a fresh object: only this test and the copy hold it
    held: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        held.append(sys.getrefcount(data))  # `data` here, getrefcount's argument, +others
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    alone = sys.getrefcount(data)
    stager = files.ArchiveStager(tmp_path / "sources")
    stager.stage("a.csv", data)
    copy = stager.take("a.csv")
    assert copy is not None and copy.read_bytes() == data
    assert held and held[0] == alone  # no reference left in the copying thread
    stager.close()
