"""Which stored rows' file a full check already passed on, kept beside the ledger.

`schema.validate` proves on every read that no two rows share an id: hashing a million ids
costs about 0.1 s CPU, a sixth of a month's report, for an answer that only changes when the
file does. So after a full check passes (or a commit writes rows it has just validated) the
file's stamp (its size and the sha256 of its Parquet footer, which holds every column
chunk's offsets, sizes and min/max: `stamp`) is written to `<dir>/.checked`, and a read whose
file still has that stamp skips only that check. The stamp follows the bytes, not the inode:
a copied ledger keeps it, while a replaced or rewritten file has another footer, so it is
checked in full and refused with the same message as ever;
the other checks (columns, types, version, empty required cells, currencies) run on every
read. The file is never a source of truth: a missing, unreadable or other one means a full
check, and one that cannot be written (a read-only ledger) is skipped silently.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from ledger.core.files import atomic_write_bytes

NAME = ".checked"
"""The file in the ledger directory."""

VERSION = "1"
"""Bump when what a passed check proves changes (a new check that may not be skipped)."""


def stamp(path: Path) -> str | None:
    """The stored rows' file's size and its Parquet footer's sha256 (None when it is missing
    or not Parquet): read from the file's last bytes, microseconds whatever its size."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size < 12:
                return None
            handle.seek(size - 8)
            tail = handle.read(8)
            length = int.from_bytes(tail[:4], "little")
            if tail[4:] != b"PAR1" or length + 12 > size:
                return None
            handle.seek(size - 8 - length)
            footer = handle.read(length)
    except OSError:
        return None
    return f"{size}:{hashlib.sha256(footer).hexdigest()}"


def known(root: Path, stamp: str | None) -> bool:
    """Whether a full check passed on the stored rows' file stamped `stamp` (taken before the
    rows were read)."""
    if stamp is None:
        return False
    try:
        return (root / NAME).read_text(encoding="utf-8") == f"{VERSION}:{stamp}"
    except (OSError, UnicodeDecodeError):
        return False


def remember(root: Path, stamp: str | None, now: str | None) -> None:
    """Note that a full check passed on the file stamped `stamp`, if it still is (`now`, taken
    after: a file replaced meanwhile is not vouched for) and the note is not there already;
    nothing when it cannot be written."""
    if stamp is None or stamp != now or known(root, stamp):
        return
    with contextlib.suppress(OSError):  # read-only, full: checked in full next time
        atomic_write_bytes(root / NAME, f"{VERSION}:{stamp}".encode())
