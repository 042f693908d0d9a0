"""A file as read from disk: its bytes (a regular file's, at most 1 GiB), their sha256, its
text decoded, and its first lines and their cells for detection; the bytes of a large file let
go once parsed and read again, refused if changed, should anything ask for them.

Exports arrive as UTF-8 with or without a BOM, Windows-1252 (older PayPal and banks) or
UTF-16 (Excel "Unicode text"). Headers drift in case, spacing and BOMs, so cells are matched
by a normalised name. importers/readers.py reads a file's table.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from collections.abc import Set as AbstractSet


HEAD_BYTES = 64 * 1024
"""How much of a file detection may look at."""

SCAN_LINES = 50
"""How many lines a header may be preceded by (bank preambles)."""

EXACT_SCAN_MAX_BYTES = 8 * 1024 * 1024
"""Files up to this size get a field count check on every row; larger ones on the last row."""

MAX_FILE_BYTES = 1024 * 1024 * 1024
"""The most read from one export (1 GiB): a decade of a busy freelancer's PayPal is ~100 MB;
anything larger is not an export (or is /dev/zero) and would only exhaust memory."""

csv.field_size_limit(2**31 - 1)  # a long description is data, not an error; limits are ours


def size_text(count: int) -> str:
    """A byte count for messages: 1 GiB, 64 MiB, 512 KiB."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"


def read_unchanged(path: Path, sha256: str, shown: Path | None = None) -> bytes:
    """`path`'s bytes read again (their first read was let go to save memory), refused if
    they are no longer the bytes whose `sha256` was parsed (`shown`: the path to name)."""
    import hashlib

    data = read_regular(path)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise _changed(shown or path)
    return data


def check_unchanged(path: Path, sha256: str, shown: Path, stamp: Stamp | None = None) -> None:
    """`read_unchanged`'s refusal without keeping the bytes, for a reader that had polars read
    the file itself (no second copy of it): the file hashed again a megabyte at a time, unless
    `stamp` (taken as its bytes were read and hashed) proves it untouched (`Stamp.still`)."""
    import hashlib

    if stamp is not None and stamp.still(path):
        return
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise _changed(shown)


RACY_NS = 3_000_000_000
"""How much older than our first look a file's mtime and ctime must be for an equal `os.stat`
to prove it unchanged (`Stamp.still`): FAT keeps mtimes to 2 s (ext3 and HFS+ to 1 s), and
the kernel stamps files from a clock a tick behind `time.time_ns`."""


@dataclass(frozen=True)
class Stamp:
    """A file's `os.stat` identity (size, mtime, ctime, inode, device), taken just before the
    bytes whose sha256 is the import id were read, and when (`taken_ns`, not compared).

    Why (git's "racy git" rule, Documentation/technical/racy-git.txt in git.git): a large
    file read by polars itself was then hashed again in full to prove it still held the
    hashed bytes (0.13 s of CPU on the 1M-row PayPal export). The same `os.stat` before and
    after proves that instead: any write changes the size, or moves the mtime and the ctime
    (a program can set the mtime back, not the ctime) to the time of the write. Except within
    one timestamp tick: a file written in the tick of our first look may be written again
    without its timestamps moving, so one whose mtime or ctime is not RACY_NS older than our
    first look is "racily clean", and hashed again as before (git compares the contents of
    such entries too). A stat that differs for no change (an inode's nanoseconds forgotten
    on a network filesystem) only costs that hash."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    dev: int
    taken_ns: int = field(default=0, compare=False)

    @classmethod
    def of(cls, info: os.stat_result, taken_ns: int) -> Stamp:
        return cls(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev,
                   taken_ns)

    def settled(self) -> bool:
        """Whether the file was last written RACY_NS or more before the stamp was taken."""
        return max(self.mtime_ns, self.ctime_ns) <= self.taken_ns - RACY_NS

    def still(self, path: Path) -> bool:
        """Whether `path` is proved unchanged since the stamp without reading it: settled, and
        stat'ed the same now (False: hash it again)."""
        if not self.settled():
            return False
        try:
            return Stamp.of(os.stat(path), 0) == self
        except OSError:
            return False


def _changed(shown: Path) -> DataError:
    return DataError("the file changed while it was being imported", path=shown,
                     hint="import it again once it is no longer being written")


def read_regular(path: Path, *, limit: int = MAX_FILE_BYTES, what: str = "an export") -> bytes:
    """A file's bytes, refusing before any read what is not a regular file (a FIFO would block
    forever, /dev/zero never ends) and reading at most `limit` bytes (a DataError beyond)."""
    return read_stamped(path, limit=limit, what=what)[0]


def read_stamped(path: Path, *, limit: int = MAX_FILE_BYTES, what: str = "an export"
                 ) -> tuple[bytes, Stamp]:
    """`read_regular`'s bytes and the file's Stamp, taken on the open file before reading."""
    import stat
    import time

    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError("no such file", path=path, hint="check the path and try again") from None
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", path=path,
                        hint="check the file's permissions") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"is a directory, not {what} file", path=path,
                        hint=f"import the files inside it, e.g. ledger import {path}/*")
    if not stat.S_ISREG(info.st_mode):
        raise DataError("not a regular file (a pipe, device or socket): not read", path=path,
                        hint="give the file itself, saved on disk")
    if info.st_size > limit:
        raise _too_large(path, limit)
    try:  # O_NONBLOCK: should the path have become a FIFO since stat, open does not block
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", path=path,
                        hint="check the file's permissions") from None
    with os.fdopen(fd, "rb") as handle:
        taken_ns = time.time_ns()  # before the fstat: never later than the stamp's look
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise DataError("not a regular file (a pipe, device or socket): not read",
                            path=path, hint="give the file itself, saved on disk")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise DataError(f"cannot read: {exc.strerror}", path=path,
                            hint="check the file's permissions") from None
    if len(data) > limit:  # grew since stat
        raise _too_large(path, limit)
    return data, Stamp.of(info, taken_ns)


def _too_large(path: Path, limit: int) -> DataError:
    return DataError(f"the file is larger than the {size_text(limit)} ledger reads from one "
                     "file", path=path,
                     hint="export a shorter date range (several files import fine)")


def normalize(name: str) -> str:
    """Header name as matched: no BOM, trimmed, single spaces, case-folded."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()  # split: runs of \s


_CONTROLS = tuple(b for b in range(32) if b not in (9, 10, 12, 13))
"""C0 control bytes but tab, line feed, form feed and carriage return."""


def _is_utf16(data: bytes) -> bool:
    return data[:2] in (b"\xff\xfe", b"\xfe\xff")


def decode(data: bytes, path: str | Path) -> tuple[str, str]:
    """Bytes to text, trying UTF-16 (by BOM), UTF-8 (BOM or not) and Windows-1252 in turn.

    Returns (text, encoding). A binary file or bytes no encoding explains is a DataError.
    """
    if _is_utf16(data):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise _undecodable(data, exc, path) from None
    if b"\x00" in data[:HEAD_BYTES]:
        raise DataError(
            "this is a binary file, not a text export", path=path,
            hint="export the statement as CSV (or XLSX/OFX where supported) and import that",
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    mixed = _utf8_with_strays(data)
    if mixed is not None:
        return mixed, MIXED
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc, path) from None


MIXED = "utf-8+cp1252"
"""The encoding of UTF-8 text with stray single bytes (a Latin-1 `é` typed into a UTF-8 file):
those bytes are read as Windows-1252 and the import warns (`RawFile.decode_warning`)."""
_STRAY = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


def _utf8_with_strays(data: bytes) -> str | None:
    """The text, if the evidence says UTF-8 with strays: it holds at least as many valid
    multi-byte UTF-8 characters as bytes that are not UTF-8 (a Windows-1252 file holds almost
    none); else None (read it all as Windows-1252)."""
    text = data.decode("utf-8-sig", errors="surrogateescape")
    strays = len(_STRAY.findall(text))
    if not strays or len(_NON_ASCII.findall(text)) < strays:
        return None
    return _STRAY.sub(lambda m: _cp1252_byte(ord(m[0]) - 0xDC00), text)


def _cp1252_byte(byte: int) -> str:
    """One byte as Windows-1252 (its five unassigned bytes as Latin-1)."""
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


def _undecodable(data: bytes, exc: UnicodeDecodeError, path: str | Path) -> DataError:
    line = data[: exc.start].count(b"\n") + 1
    byte = data[exc.start : exc.start + 1].hex()
    return DataError(
        f"byte 0x{byte} cannot be read as UTF-8, UTF-16 or Windows-1252 text",
        path=path, line=line,
        hint="the file may be damaged or not a CSV export; download it again or save it as UTF-8",
    )


def sniff_delimiter(line: str) -> str:
    """The separator a header line uses: comma, semicolon (German Excel) or tab."""
    outside = re.sub(r'"[^"]*"', "", line)
    counts = {sep: outside.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def split_line(line: str, delimiter: str) -> list[str]:
    """One CSV line's cells (quote-aware). A stray CR or LF inside the line (a damaged file)
    is read as a space: csv would refuse the line with an error that names no line."""
    clean = line.replace("\r", " ").replace("\n", " ").replace("\0", " ")
    return next(csv.reader([clean], delimiter=delimiter), [])


@dataclass
class RawFile:
    """A file as read from disk: bytes, their sha256 (the import id) and lazily its text."""

    path: Path
    data: bytes
    sha256: str
    origin: Path | None = None
    """Where `data` can be read again (registry.read's file; None for a derived copy): a large
    export's bytes are released once parsed (`release`)."""
    length: int | None = None
    """`data` is the first `length` bytes of `origin` (a bank statement cut before its
    footer), or None: all of them, so polars may read the file itself."""
    stamp: Stamp | None = None
    """`origin`'s Stamp as `data` was read (registry.read): `check_unchanged` without a hash."""
    whole: bytes | None = None
    """`origin`'s bytes as read, of which `data` is the first `length` (`cut`): sliced, a
    copy, only when asked for; importers.readers.read_table reads the table from them as
    they are, the records after the cut dropped."""

    @classmethod
    def cut(cls, raw: RawFile, length: int) -> RawFile:
        """`raw` (a large file read from `origin`) cut to its first `length` bytes without
        copying them (a file's size of CPU and memory): its `data` made on first use."""
        copy = cls(path=raw.path, data=b"", sha256=raw.sha256, origin=raw.origin,
                   length=length, stamp=raw.stamp, whole=raw.data)
        del copy.__dict__["data"]
        return copy

    def release(self) -> None:
        """Drop the bytes of a large file read from `origin` (its parse holds the table now:
        the bytes were a file's size of peak memory); should anything ask for them again
        they are read again, and refused if the file changed since."""
        if self.origin is not None and len(self.__dict__.get("data", b"")) > EXACT_SCAN_MAX_BYTES:
            del self.__dict__["data"]
        if self.origin is not None:
            self.whole = None

    def __getattr__(self, name: str) -> bytes:
        if name != "data" or self.origin is None:
            raise AttributeError(name)
        whole = self.__dict__.get("whole")
        self.data = whole[:self.length] if whole is not None else \
            read_unchanged(self.origin, self.sha256, shown=self.path)[:self.length]
        return self.data

    @cached_property
    def decoded(self) -> tuple[str, str]:
        return decode(self.data, self.path)

    @property
    def text(self) -> str:
        return self.decoded[0]

    @property
    def encoding(self) -> str:
        return self.decoded[1]

    @property
    def decode_warning(self) -> str | None:
        """Where the text was UTF-8 with stray bytes read as Windows-1252: a warning naming
        the file and the line of the first such byte (never silently)."""
        if "decoded" not in self.__dict__ or self.encoding != MIXED:
            return None
        try:
            self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = self.data[: exc.start].count(b"\n") + 1
            byte = self.data[exc.start]
            return (f"{self.path}:{line}: byte 0x{byte:02x} is not UTF-8 while the rest of the "
                    f"file is; read it as Windows-1252 ({_cp1252_byte(byte)!r}): check that "
                    "line, or save the file as UTF-8")
        return None

    @cached_property
    def head_text(self) -> str:
        """The first KBs as text, for detection: never raises."""
        head = self.data[:HEAD_BYTES]
        if _is_utf16(head):
            return head.decode("utf-16", errors="replace")
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return head.decode(encoding)
            except UnicodeDecodeError:
                continue
        return head.decode("utf-8", errors="replace")

    @cached_property
    def head_lines(self) -> list[str]:
        return self.head_text.splitlines()[:SCAN_LINES]

    @cached_property
    def is_binary(self) -> bool:
        return not _is_utf16(self.data) and b"\x00" in self.data[:HEAD_BYTES]

    @cached_property
    def looks_binary(self) -> bool:
        """`is_binary`, or a head of which over 2% are control bytes no text export holds
        (random or compressed bytes without a NUL: a third of 300 random bytes have none).
        Only for naming a file no format recognised: text with a stray control byte stays
        text."""
        if self.is_binary:
            return True
        head = self.data[:HEAD_BYTES]
        if _is_utf16(head) or not head:
            return False
        controls = sum(head.count(bytes([b])) for b in _CONTROLS)
        return controls * 50 > len(head)

    @cached_property
    def head_cells(self) -> list[frozenset[str] | None]:
        """Each head line's normalised cells (None for a blank line)."""
        return [self.cells_at(index) for index in range(len(self.head_lines))]

    def cells_at(self, index: int) -> frozenset[str] | None:
        """Head line `index`'s normalised cells (None for a blank line), split on first use:
        detection asks every format and bank profile about the same lines, and a batch reads
        hundreds of files with the same header line (`_line_cells` remembers it)."""
        return _line_cells(self.head_lines[index])

    @cached_property
    def head_folded(self) -> list[str]:
        """Each head line folded as `normalize` folds a cell: a header cell's normalised name
        is a substring of its line's (a cheap test before splitting the line)."""
        return [normalize(line.replace("\r", " ").replace("\n", " ").replace("\0", " "))
                for line in self.head_lines]

    @cached_property
    def _head_folded_text(self) -> str:
        return "\n".join(self.head_folded)

    def header_index(self, matches: Callable[[AbstractSet[str]], bool],
                     needs: Iterable[str] = ()) -> int | None:
        """Index of the first of the first lines whose normalised cells satisfy `matches`.
        `needs`: normalised cells `matches` requires, so lines whose text lacks one are not
        split (names holding a quote are not used: a quoted cell doubles them)."""
        if self.is_binary:
            return None
        needed = [n for n in needs if '"' not in n]
        folded = self.head_folded if needed else None
        if folded is not None and not all(n in self._head_folded_text for n in needed):
            return None  # a needed name is on no line: one search, not one per line
        for index in range(len(self.head_lines)):
            if folded is not None and not all(n in folded[index] for n in needed):
                continue
            cells = self.cells_at(index)
            if cells is not None and matches(cells):
                return index
        return None

    def header_is_first(self, matches: Callable[[AbstractSet[str]], bool]) -> bool:
        """Whether the first line is a header that satisfies `matches` (`header_index(matches)
        == 0` without splitting the other lines)."""
        if self.is_binary or not self.head_lines:
            return False
        cells = self.cells_at(0)
        return cells is not None and matches(cells)


@lru_cache(maxsize=1024)
def _line_cells(line: str) -> frozenset[str] | None:
    return frozenset(normalize(c) for c in split_line(line, sniff_delimiter(line))) \
        if line.strip() else None
