"""Which rows each of the user's `[[rules]]` matches, kept beside the ledger between commands.

Finding them (ledger.core.user_rules.hits) scans every description: on a million bank rows
about 0.2 s CPU, a third of a month's report, for an answer that changes only when the stored
rows or a rule's match keys do. So `Ledger.rows` keeps each rule's row numbers in
`<dir>/.rule-hits.arrow`, keyed by the stored rows' file (size, mtime, inode), by the code that
found them (user_rules.py and the polars version) and by the rule's match keys (not its id or
`set`: editing what a rule sets, or adding a rule, scans only for the rules without an entry).
The file is never a source of truth: a missing, unreadable or stale one is recomputed, and one
that cannot be written (a read-only ledger) is skipped silently.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.files import atomic_write

if TYPE_CHECKING:
    import polars as pl

    from ledger.core.user_rules import UserRule

NAME = ".rule-hits.arrow"
"""The file in the ledger directory."""

VERSION = "1"
"""Bump when the file's layout changes."""


@functools.cache
def _code() -> str:
    """What finds the rows: ledger/core/user_rules.py's text and the polars version (its regex
    engine), hashed. Kept rows found by other code (an upgrade, a fix) are never used."""
    import polars as pl

    from ledger.core import user_rules

    text = Path(user_rules.__file__).read_bytes() + pl.__version__.encode()
    return hashlib.sha256(text).hexdigest()[:16]


def stamp(rows_path: Path) -> str | None:
    """What identifies the stored rows' file (None when it is missing): taken before the rows
    are read, so rows read from a file replaced meanwhile are never kept under the new one's
    stamp (see `hits`)."""
    try:
        st = rows_path.stat()
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def rule_key(rule: UserRule) -> str:
    """The rule's match keys (regexes as `_pattern` wrote them, sets, sizes, dates) hashed:
    all that decides which rows it matches."""
    text = repr(sorted(rule.match.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def hits(root: Path, rows_path: Path, before: str | None, rows: pl.DataFrame,
         rules: list[UserRule]) -> list[pl.Series]:
    """`user_rules.hits(rows, rules)`, from the file where it holds the rules' rows for the
    stored rows stamped `before` (`stamp` taken before `rows` were read from `rows_path`);
    computed for the rest, and the file rewritten when anything was computed and the stored
    rows are still the ones read."""
    from ledger.core.user_rules import hits as compute

    keys = [rule_key(rule) for rule in rules]
    at = f"{VERSION}:{_code()}:{before}"
    known = _read(root / NAME, at, rows.height) if before else {}
    missing = [i for i, key in enumerate(keys) if key not in known]
    if missing:
        found = compute(rows, [rules[i] for i in missing])
        known.update(zip([keys[i] for i in missing], found, strict=True))
        if before is not None and stamp(rows_path) == before:
            _write(root / NAME, at, {key: known[key] for key in keys})
    return [known[key] for key in keys]


def _read(path: Path, want: str, height: int) -> dict[str, pl.Series]:
    """The file's entries when it is for the stored rows `want` ({} otherwise: missing,
    unreadable, another version, other rows, a row number past the rows)."""
    import polars as pl

    try:
        frame = pl.read_ipc(path)
    except (OSError, pl.exceptions.PolarsError):  # missing, truncated, not Arrow: recomputed
        return {}
    if frame.schema != _schema() or frame.is_empty() or (frame["stamp"] != want).any():
        return {}
    if (frame["rows"].list.max() >= height).any():  # not these rows after all
        return {}
    column = frame["rows"]
    return {key: column[i] for i, key in enumerate(frame["key"])}


def _write(path: Path, at: str, entries: dict[str, pl.Series]) -> None:
    """The entries for the stored rows `at`, written atomically (a reader sees the old file or
    the new one); nothing when it cannot be written."""
    import polars as pl

    frame = pl.DataFrame({"stamp": [at] * len(entries), "key": list(entries),
                          "rows": pl.Series(list(entries.values()), dtype=pl.List(pl.UInt32))},
                         schema=_schema())
    with contextlib.suppress(OSError):  # read-only, full: computed next time
        atomic_write(path, frame.write_ipc)


def _schema() -> pl.Schema:
    import polars as pl

    return pl.Schema({"stamp": pl.String, "key": pl.String, "rows": pl.List(pl.UInt32)})
