"""Writing a large file that no one reads soon (an export's archive copy) past the page cache.

A buffered write copies every byte into page-cache pages the kernel allocates for it. On a
virtual machine that hands free memory back to its host (free page reporting), those new
pages are faulted in again by the host as they are written: copying a 128 MiB export into
the page cache cost 1.3-1.7 s of system CPU on the bench machine (perf: 97% in
copy_folio_from_iter_atomic), a third of a 1M-row import; written with O_DIRECT, from one
small reused buffer, 0.03 s, and 0.09 s of wall time with the fsync (medians of 3, 2026-12-04).
The copy is read again only by `ledger rebuild` and `doctor`, so nothing is lost by keeping
it out of the cache (nor does it push out what is cached).

The bytes on disk are the same either way (tests/test_uncached.py). Where O_DIRECT is not
offered (macOS, Windows) or the file system refuses it (tmpfs, some network file systems:
EINVAL), the rest of the file is written as any other; every other error (a full disk) is
raised as the buffered write raises it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

DIRECT_FROM = 1 << 20
"""Files from this size are written past the cache; a smaller one costs little either way."""

CHUNK = 1 << 20
"""Bytes copied into the aligned buffer and written at a time (a multiple of ALIGN)."""

ALIGN = 4096
"""What O_DIRECT needs the buffer, offsets and lengths aligned to (a page: covers every
logical block size up to it)."""


def write(path: Path, data: bytes) -> None:
    """`data` written to a new file at `path` (created or truncated, mode 0o666 less the
    umask, as `open(path, "wb")`), not fsynced: past the page cache where it can be."""
    direct = getattr(os, "O_DIRECT", 0)
    if not direct or len(data) < DIRECT_FROM:
        _buffered(path, data)
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | direct, 0o666)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # a file system without O_DIRECT refuses the flag
            raise
        _buffered(path, data)
        return
    try:
        done = _direct(fd, data)
        if done < len(data):  # refused midway: the rest written as any file is
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~direct)
            os.lseek(fd, done, os.SEEK_SET)
            _write_all(fd, memoryview(data)[done:])
        os.ftruncate(fd, len(data))  # the last block was written padded with zeros
    finally:
        os.close(fd)


def _direct(fd: int, data: bytes) -> int:
    """Write `data` from the start of `fd` (opened O_DIRECT) a CHUNK at a time through one
    aligned buffer, the last piece padded to ALIGN; how many bytes of `data` were written
    before the file system refused (EINVAL) or wrote short (then at an aligned offset)."""
    import mmap

    buffer = mmap.mmap(-1, CHUNK)  # page-aligned, as O_DIRECT needs
    try:
        with memoryview(data) as source, memoryview(buffer) as aligned:
            offset = 0
            while offset < len(data):
                size = min(CHUNK, len(data) - offset)
                aligned[:size] = source[offset:offset + size]
                padded = -(-size // ALIGN) * ALIGN
                aligned[size:padded] = bytes(padded - size)
                piece = aligned[:padded]
                try:
                    written = os.write(fd, piece)
                except OSError as exc:
                    if exc.errno != errno.EINVAL:
                        raise
                    return offset
                finally:
                    piece.release()  # (a traceback may hold it: the buffer closes below)
                if written < padded:  # a short write: the rest goes the buffered way
                    return offset + min(written, size) // ALIGN * ALIGN
                offset += size
            return len(data)
    finally:
        buffer.close()


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data):]


def _buffered(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
