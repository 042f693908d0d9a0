"""Small tables a command rebuilds from bundled files (the ECB and NBP rates) kept in the user
cache folder as Arrow IPC, so that later commands read them instead of parsing the source
again (~0.01 s of every command that values money); and the bundled fee schedule's parsed
TOML, pickled the same way (`cached_value`: ~0.003 s of every command that counts fees).

A file is named by what it was built from (`key`: the source's size and checksum, with the
polars version, since IPC is polars' own format), carries a checksum of its bytes, and is
written atomically. One that is missing, damaged, written by something else or not writable
is passed over: the table is built fresh (and written when it can be), so the answer is the
same either way; tests/test_frame_cache.py checks both.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

T = TypeVar("T")

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl

MAGIC = b"LEDGERFC2\n"
"""The first bytes of a cache file: this module's format (then the CRC-32 of the IPC bytes).
2: the Arrow IPC stream format, not the file format (polars reads a small table without a
query plan: ~0.07 ms, not ~0.3 ms, the first ~1 ms less); version 1's files are passed over."""


def _unwrapped(path: Path) -> bytes | None:
    """The bytes kept at `path` (after MAGIC and their CRC), or None if absent or damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + 4
    if len(data) < head or not data.startswith(MAGIC):
        return None
    payload = data[head:]
    if zlib.crc32(payload) != int.from_bytes(data[len(MAGIC):head], "big"):
        return None
    return payload


def _keep(path: Path, payload: bytes, sync: bool = True) -> None:
    from ledger.core.files import keep_cached

    keep_cached(path, MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload, sync=sync)


def folder(kind: str, key: str, *, tables: bool = True) -> Path:
    """The cache folder of one kind of table built from one version of its source (`key`),
    under the polars version that writes it (`tables`; a value's key names its own)."""
    from ledger.core.files import user_cache

    if not tables:
        return user_cache() / f"{kind}-{key}"
    import polars as pl

    return user_cache() / f"{kind}-{key}-pl{pl.__version__}"


def read(path: Path) -> pl.DataFrame | None:
    """The table kept at `path`, or None if it is absent, damaged or not this module's."""
    import io

    import polars as pl

    payload = _unwrapped(path)
    if payload is None:
        return None
    try:
        return pl.read_ipc_stream(io.BytesIO(payload))
    except Exception:  # a checksum that matches bytes polars cannot read: passed over too
        return None


def write(path: Path, table: pl.DataFrame) -> None:
    """Keep `table` at `path` (atomically); a folder that cannot be written is passed over."""
    import io

    buffer = io.BytesIO()
    table.write_ipc_stream(buffer, compression="uncompressed")
    _keep(path, buffer.getvalue())


def cached(path: Path, build: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """The table kept at `path`, else `build()`'s, kept there for the next command."""
    table = read(path)
    if table is None:
        table = build()
        write(path, table)
    return table


def cached_value(path: Path, build: Callable[[], T], kind: type) -> T:
    """`cached` for a plain Python value of type `kind` (dicts, lists, text, Decimal, dates:
    what a parsed TOML holds), pickled: written by this module only, checksummed, and one of
    another type is passed over too."""
    value = read_value(path, kind)
    if value is None:
        value = build()
        write_value(path, value)
    return value


def read_value(path: Path, kind: type) -> Any:
    """The value of type `kind` pickled at `path` by `write_value`, or None if it is absent,
    damaged, not this module's or of another type."""
    import pickle

    payload = _unwrapped(path)
    if payload is None:
        return None
    try:
        value = pickle.loads(payload)
    except Exception:  # a checksummed pickle this module cannot load (an older class): rebuilt
        return None
    return value if isinstance(value, kind) else None


def write_value(path: Path, value: object, *, sync: bool = True) -> None:
    """Keep `value` pickled at `path` (atomically; not fsynced unless `sync`: the checksum
    finds a file a crash tore); a folder that cannot be written is passed over."""
    import pickle

    _keep(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), sync)


def prune(folder: Path, keep: int) -> None:
    """Remove all but the `keep` newest files (by mtime) of `folder`, so a cache of many
    entries stays bounded; temporary files (`.NAME.PID.tmp`, another writer's) are left, and
    files that cannot be listed or removed are passed over."""
    import os

    try:
        entries = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(folder)
                   if e.is_file(follow_symlinks=False) and not e.name.startswith(".")]
    except OSError:
        return
    for _, path in sorted(entries, reverse=True)[keep:]:
        with contextlib.suppress(OSError):
            os.unlink(path)
