"""An archive copy written past the page cache (ledger/core/uncached.py) holds exactly the
bytes given, whatever their length, whether O_DIRECT is offered, refused at the open or
midway, or writes short; any other error is raised as a buffered write raises it."""

from __future__ import annotations

import errno
import os

import pytest

from ledger.core import files, uncached

SIZES = [0, 1, 4095, 4096, 4097, uncached.CHUNK - 1, uncached.CHUNK, uncached.CHUNK + 1,
         3 * uncached.CHUNK + 12345]


def _data(size: int) -> bytes:
    return os.urandom(size)


@pytest.fixture(autouse=True)
def _small_threshold(monkeypatch):
    monkeypatch.setattr(uncached, "DIRECT_FROM", 1)  # every size below goes the direct way


@pytest.mark.parametrize("size", SIZES)
def test_written_bytes_are_the_data(tmp_path, size):
    data = _data(size)
    path = tmp_path / "copy"
    uncached.write(path, data)
    assert path.read_bytes() == data


def test_the_direct_way_is_taken_where_offered(tmp_path, monkeypatch):
    if not getattr(os, "O_DIRECT", 0):
        pytest.skip("no O_DIRECT on this platform")
    flags: list[int] = []
    real_open = os.open

    def spy(path, flag, *args, **kwargs):
        flags.append(flag)
        return real_open(path, flag, *args, **kwargs)

    monkeypatch.setattr(uncached.os, "open", spy)
    data = _data(uncached.CHUNK + 7)
    uncached.write(tmp_path / "copy", data)
    assert flags and flags[0] & os.O_DIRECT
    assert (tmp_path / "copy").read_bytes() == data


def test_a_file_system_refusing_o_direct_at_the_open_gets_the_buffered_write(tmp_path,
                                                                              monkeypatch):
    real_open = os.open

    def refusing(path, flag, *args, **kwargs):
        if flag & getattr(os, "O_DIRECT", 0):
            raise OSError(errno.EINVAL, "Invalid argument", str(path))
        return real_open(path, flag, *args, **kwargs)

    monkeypatch.setattr(uncached.os, "open", refusing)
    data = _data(2 * uncached.CHUNK + 5)
    uncached.write(tmp_path / "copy", data)
    assert (tmp_path / "copy").read_bytes() == data


@pytest.mark.parametrize("refused_at", [0, 1, 2])
def test_a_write_refused_midway_is_finished_buffered(tmp_path, monkeypatch, refused_at):
    if not getattr(os, "O_DIRECT", 0):
        pytest.skip("no O_DIRECT on this platform")
    real_write = os.write
    calls = [0]

    def refusing(fd, buffer):
        import fcntl

        calls[0] += 1
        if calls[0] == refused_at + 1:
            assert fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, buffer)

    monkeypatch.setattr(uncached.os, "write", refusing)
    data = _data(2 * uncached.CHUNK + 4099)
    uncached.write(tmp_path / "copy", data)
    assert (tmp_path / "copy").read_bytes() == data


def test_a_short_direct_write_is_finished_buffered(tmp_path, monkeypatch):
    if not getattr(os, "O_DIRECT", 0):
        pytest.skip("no O_DIRECT on this platform")
    real_write = os.write
    calls = [0]

    def short(fd, buffer):
        calls[0] += 1
        if calls[0] == 2:  # the second chunk: two blocks written, fewer bytes told
            real_write(fd, buffer[:8192])
            return 5000
        return real_write(fd, buffer)

    monkeypatch.setattr(uncached.os, "write", short)
    data = _data(3 * uncached.CHUNK + 17)
    uncached.write(tmp_path / "copy", data)
    assert (tmp_path / "copy").read_bytes() == data


def test_a_full_disk_is_raised_and_the_stager_removes_the_copy(tmp_path, monkeypatch):
    def full(fd, buffer):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(uncached.os, "write", full)
    path = tmp_path / "copy"
    with pytest.raises(OSError) as caught:
        files.write_unsynced(path, _data(uncached.CHUNK))
    assert caught.value.errno == errno.ENOSPC
    assert not path.exists()


def test_small_files_are_written_buffered(tmp_path, monkeypatch):
    monkeypatch.setattr(uncached, "DIRECT_FROM", 1 << 20)
    opened: list[int] = []
    real_open = os.open
    monkeypatch.setattr(uncached.os, "open",
                        lambda *a, **k: opened.append(1) or real_open(*a, **k))
    uncached.write(tmp_path / "copy", b"abc")
    assert not opened and (tmp_path / "copy").read_bytes() == b"abc"


def test_an_archived_export_is_byte_identical(tmp_path, monkeypatch):
    """Through the stager, as an import archives a file."""
    data = _data(uncached.CHUNK * 2 + 333)
    stager = files.ArchiveStager(tmp_path / "sources")
    stager.stage("a.csv", data)
    copy = stager.take("a.csv")
    assert copy is not None and copy.read_bytes() == data
    stager.close()
