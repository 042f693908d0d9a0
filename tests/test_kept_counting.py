"""The counting pipeline's answers kept between commands (ledger/counting/kept.py): a warm
command prints what a cold one prints, every input the counting path opens is in the key (an
input added without keying it fails `test_every_file_counting_opens_is_keyed`), a changed
input is counted again, a damaged or foreign entry is passed over, an unwritable cache folder
works, and `ledger batch` neither reads nor writes an entry."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest

from tests.test_cli import import_demo, ok, run
from tests.test_payouts_counted import DEMO_WORKER

MONTH = ("--month", "2024-06")
COMMANDS = [("report", *MONTH, "--format", "json"), ("report", *MONTH),
            ("payouts", *MONTH, "--format", "json"), ("payouts", *MONTH),
            ("report", "--year", "2024", "--format", "json")]


def entries(cache: Path) -> dict[Path, int]:
    """The kept answers in the cache folder `cache` (XDG_CACHE_HOME), by inode (a file
    written again is a new inode: atomic_write renames a new file into place)."""
    from ledger.counting import kept

    folder = cache / "freelance-ledger" / f"counted-{kept.VERSION}"
    return {p: p.stat().st_ino for p in sorted(folder.glob("*.pickle"))}


def outputs(root: Path, cache: Path, commands: list[tuple[str, ...]] = COMMANDS) -> list[str]:
    env = {"XDG_CACHE_HOME": str(cache)}
    return [ok(run("--ledger", root, *c, cwd=root.parent, env=env)).stdout for c in commands]


def with_worker(root: Path) -> Path:
    with (root / "ledger.toml").open("a", encoding="utf-8") as toml:
        toml.write(DEMO_WORKER)
    return root


@pytest.mark.parametrize("workers", [False, True], ids=["demo", "workers"])
def test_warm_commands_print_what_cold_ones_print(tmp_path, workers):
    """Report and payouts (JSON and tables) from a cold cache and then warm: the same bytes,
    the warm run reading the entries (none written again), nothing added to the ledger."""
    root = import_demo(tmp_path)
    if workers:
        with_worker(root)
    cache = tmp_path / "cache"
    cold = outputs(root, cache)
    kept = entries(cache)
    listing = sorted(p.name for p in root.iterdir())
    assert len(kept) >= 3
    assert outputs(root, cache) == cold
    assert entries(cache) == kept  # read, not counted and written again
    assert sorted(p.name for p in root.iterdir()) == listing
    assert not [p for p in root.rglob("*") if p.suffix == ".pickle"]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


def test_a_changed_input_is_counted_again(tmp_path):
    """Each input changed in turn (rates.csv, a user rule, a fee setting, a split, links.json,
    payouts.csv, units.csv, an import undone): the commands warm from the entries of the
    earlier states print what they print cold, and what they print changed where the input
    shows."""
    from ledger.store.directory import Ledger

    root = with_worker(import_demo(tmp_path / "ledger"))
    cache = tmp_path / "cache"
    commands = [COMMANDS[0], COMMANDS[2]]
    before = outputs(root, cache, commands)

    def rates() -> None:
        _edit(root / "rates.csv", "2024-06-03,USD,PKR,278.", "2024-06-03,USD,PKR,281.")

    def user_rule() -> None:
        with (root / "ledger.toml").open("a", encoding="utf-8") as toml:
            toml.write('\n[[rules]]\nid = "kept-test"\ndescription = "."\nsign = "credit"\n'
                       'set = { client = "Kept Test Client" }\n')

    def split() -> None:
        _edit(root / "ledger.toml", 'percent_of_net = "10"', 'percent_of_net = "25"')

    def links() -> None:
        _unlink_first_hop(root)

    def payout() -> None:
        ok(run("--ledger", root, "payouts", "record", "Faisal", "5000", "PKR", "--date",
               "2024-06-20", cwd=root.parent))

    def units() -> None:
        (root / "units.csv").write_text("date,contract,worker,unit,quantity\n", "utf-8")

    def undo() -> None:
        first = Ledger(root).active_imports()[0]["import_id"]
        ok(run("--ledger", root, "undo", first, cwd=root.parent))

    changed = {rates, user_rule, split, links, payout, undo}
    for number, change in enumerate([rates, user_rule, split, links, payout, units, undo]):
        change()
        warm = outputs(root, cache, commands)
        assert warm == outputs(root, tmp_path / f"cold-{number}", commands), change.__name__
        if change in changed:
            assert warm != before, change.__name__
        before = warm


def _unlink_first_hop(root: Path) -> None:
    """links.json unlinking June 2024's first hop (its withdrawal is then in transit)."""
    import json

    from ledger import reconcile
    from ledger.store.directory import Ledger

    found = reconcile.for_ledger(Ledger(root), (dt.date(2024, 6, 1), dt.date(2024, 6, 30)))
    hop = found.chains[0].hops[0]
    (root / "links.json").write_text(json.dumps(
        {"links": [], "unlinks": [[hop.out["out_id"], hop.ins[0]["in_id"]]]}), "utf-8")


def _ledgers(tmp_path: Path) -> list[Path]:
    """The demo ledger, and one with a worker, links.json, payouts.csv and units.csv (so every
    file the counting path may read is there to be opened)."""
    plain = import_demo(tmp_path / "plain")
    full = with_worker(import_demo(tmp_path / "full"))
    _unlink_first_hop(full)
    ok(run("--ledger", full, "payouts", "record", "Faisal", "5000", "PKR", "--date",
           "2024-06-20", cwd=full.parent))
    (full / "units.csv").write_text("date,contract,worker,unit,quantity\n", "utf-8")
    return [plain, full]


READERS = ("read_csv", "read_parquet", "read_ipc", "read_ipc_stream", "read_json",
           "read_ndjson", "scan_csv", "scan_parquet", "scan_ipc", "scan_ndjson")
"""polars' readers: they open files in Rust, which no audit hook sees, so their paths are
recorded where they are called."""

_TRACE: list[list[Path]] = []


def _hook(event: str, args: tuple) -> None:
    if _TRACE and event in ("open", "os.listdir", "os.scandir") and args \
            and isinstance(args[0], (str, bytes, os.PathLike)):
        _TRACE[-1].append(Path(os.fsdecode(args[0])))


def _unkeyed(root: Path, cache: Path, monkeypatch) -> set[Path]:
    """The files the counting path opens for `root` (the rows read, the FX chain built, the
    report's count_period, the payouts' summary, cold then warm) that are neither in a kept
    answer's key nor code, bundled data, or the cache folder."""
    import polars as pl

    from ledger import payouts
    from ledger.core.periods import report_currency, resolve_period
    from ledger.counting import kept
    from ledger.reports import report
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

    keyed: set[Path] = set()
    of = kept.Entry.of.__func__

    def spied(cls, *args, **kwargs):
        entry = of(cls, *args, **kwargs)
        if entry is not None:
            keyed.update(p.resolve() for p in entry.files)
        return entry

    monkeypatch.setattr(kept.Entry, "of", classmethod(spied))
    for name in READERS:
        real = getattr(pl, name)

        def reader(source, *args, _real=real, **kwargs):
            if isinstance(source, (str, os.PathLike)):
                _TRACE[-1].append(Path(source))
            return _real(source, *args, **kwargs)

        monkeypatch.setattr(pl, name, reader)
    if _hook not in getattr(sys, "_kept_hooks", []):
        sys.addaudithook(_hook)  # never removed: silent outside `_TRACE`
        sys._kept_hooks = [_hook]  # type: ignore[attr-defined]
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))

    def counted() -> None:
        ledger = Ledger(root)
        rows = ledger.rows()
        chain = FxChain.for_ledger(rows, ledger.rates_path)
        period = resolve_period(rows, month="2024-06")
        report.count_period(ledger, rows, period, report_currency(ledger, None), chain)

    found: set[Path] = set()
    # each kept answer traced apart: a file keyed by one is not vouched for by another's key
    for action in (counted, lambda: payouts.summarize(Ledger(root), month="2024-06")):
        keyed.clear()
        _TRACE.append([])
        try:
            action()  # cold
            action()  # warm
        finally:
            opened = _TRACE.pop()
        assert keyed, "no answer was kept: nothing traced"
        found |= _outside(opened, keyed, root, cache)
    return found


def _outside(opened: list[Path], keyed: set[Path], root: Path, cache: Path) -> set[Path]:
    """The files of `opened` neither `keyed` nor code, bundled data or the cache."""
    from ledger.counting import kept

    code = Path(kept.__file__).resolve().parents[2]
    allowed = [code / "ledger", code / "rules", code / "importers", Path(sys.prefix),
               Path(sys.base_prefix), cache, Path("/dev"), Path("/proc"), Path("/sys")]
    # ledger.parquet and ledger.toml are keyed through Ledger.read; .checked and
    # .rule-hits.arrow are answers kept from those two, by their stamps
    own = {root / n for n in ("ledger.parquet", "ledger.toml", ".checked", ".rule-hits.arrow")}
    found = set()
    for path in opened:
        path = path if path.is_absolute() else Path.cwd() / path
        path = path.resolve()
        if path in keyed or path in {p.resolve() for p in own}:
            continue
        if any(path.is_relative_to(place.resolve()) for place in allowed):
            continue
        found.add(path)
    return found


def test_every_file_counting_opens_is_keyed(tmp_path, monkeypatch):
    """Traced (open, listdir and scandir audit events, and polars' readers): the counting
    path of the demo ledger and of a ledger with a worker, links.json, payouts.csv and
    units.csv opens no file its kept answers' keys leave out."""
    for number, root in enumerate(_ledgers(tmp_path)):
        assert _unkeyed(root, tmp_path / f"cache-{number}", monkeypatch) == set()


def test_an_input_left_out_of_the_key_is_found(tmp_path, monkeypatch):
    """The trace fails when an input is not keyed: rates.csv taken out of `kept.inputs`."""
    from ledger.counting import kept

    real = kept.inputs
    monkeypatch.setattr(kept, "inputs", lambda ledger: [p for p in real(ledger)
                                                         if p.name != "rates.csv"])
    root = import_demo(tmp_path / "plain")
    assert (root / "rates.csv").resolve() in _unkeyed(root, tmp_path / "cache", monkeypatch)


def _build(root: Path, month: str = "2024-06") -> dict:
    from ledger.reports import report
    from ledger.store.directory import Ledger

    return report.build(Ledger(root), month=month)


@pytest.fixture(scope="module")
def worker_ledger(tmp_path_factory) -> Path:
    return with_worker(import_demo(tmp_path_factory.mktemp("kept-worker")))


@pytest.mark.parametrize("damage", ["flip", "truncate", "other key", "other type", "empty"])
def test_a_damaged_or_foreign_entry_is_passed_over(worker_ledger, tmp_path, monkeypatch, damage):
    """Each kept answer damaged (a flipped byte, cut short, empty) or replaced by a checksummed
    one of another key or type: the report is counted again, the same, and kept again."""
    import pickle

    from rules import frame_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cold = _build(worker_ledger)
    kept = entries(tmp_path / "cache")
    assert kept
    for path in kept:
        data = path.read_bytes()
        if damage == "flip":
            path.write_bytes(data[:-9] + bytes([data[-9] ^ 0x01]) + data[-8:])
        elif damage == "truncate":
            path.write_bytes(data[: len(data) // 2])
        elif damage == "empty":
            path.write_bytes(b"")
        elif damage == "other key":
            key, value = pickle.loads(frame_cache._unwrapped(path))
            frame_cache.write_value(path, (key + "x", value))
        else:
            frame_cache.write_value(path, ["not", "a", "tuple"])
    assert _build(worker_ledger) == cold
    assert set(entries(tmp_path / "cache")) == set(kept)
    assert _build(worker_ledger) == cold


def test_an_unwritable_cache_folder_counts_every_time(worker_ledger, tmp_path, monkeypatch):
    """The cache folder a file (nothing can be written under it): the same report."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "fresh"))
    cold = _build(worker_ledger)
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert _build(worker_ledger) == cold
    assert _build(worker_ledger) == cold


def test_tomorrow_is_another_key(worker_ledger, tmp_path, monkeypatch):
    """Reconcile's `as_of` (today) shows in a report's money in transit: the next day's
    report is counted again (and prints what a cold one prints then), while the payouts'
    summary, which shows no `as_of`, keeps its key."""
    import types

    from ledger import reconcile
    from ledger.counting import kept
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    today = _build(worker_ledger)
    ledger = Ledger(worker_ledger)
    rows = ledger.rows()
    chain = FxChain.for_ledger(rows, ledger.rates_path)
    span = (dt.date(2024, 6, 1), dt.date(2024, 6, 30))
    keys = [(kept.Entry.of(ledger, rows, chain, "report", span, today=True).path,
             kept.Entry.of(ledger, rows, None, "payouts", span, today=False).path)]

    class Tomorrow(dt.date):
        @classmethod
        def today(cls) -> dt.date:
            return dt.date.today() + dt.timedelta(days=1)

    later = types.SimpleNamespace(date=Tomorrow, timedelta=dt.timedelta, datetime=dt.datetime)
    monkeypatch.setattr(kept, "dt", later)
    monkeypatch.setattr(sys.modules[reconcile.__name__], "dt", later)
    keys.append((kept.Entry.of(ledger, rows, chain, "report", span, today=True).path,
                 kept.Entry.of(ledger, rows, None, "payouts", span, today=False).path))
    assert keys[0][0] != keys[1][0] and keys[0][1] == keys[1][1]
    warm = _build(worker_ledger)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cold"))
    assert warm == _build(worker_ledger)
    assert warm["chains"].keys() == today["chains"].keys()


def test_online_and_other_rows_keep_nothing(worker_ledger):
    """An online FX chain, rows that are not the ledger's last `Ledger.rows` answer, or a
    chain made otherwise: no entry."""
    import polars as pl

    from ledger.counting import kept
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

    ledger = Ledger(worker_ledger)
    rows = ledger.rows()
    span = (dt.date(2024, 6, 1), dt.date(2024, 6, 30))
    assert kept.Entry.of(ledger, rows, FxChain.for_ledger(rows, ledger.rates_path), "window",
                         span, today=True) is not None
    online = FxChain.for_ledger(rows, ledger.rates_path, online=True)
    assert kept.Entry.of(ledger, rows, online, "window", span, today=True) is None
    assert kept.Entry.of(ledger, rows.head(10), None, "window", span, today=True) is None
    assert kept.Entry.of(ledger, rows, FxChain([]), "window", span, today=True) is None
    other = pl.DataFrame(rows)
    assert kept.Entry.of(ledger, other, None, "window", span, today=True) is None
    assert kept.Entry.of(Ledger(worker_ledger), rows, None, "window", span,
                         today=True) is None  # never read through this Ledger


def test_ledger_batch_never_reads_or_writes_a_kept_answer(tmp_path, monkeypatch):
    """A batch of donated folders (one of them a ledger whose answers `ledger report` kept)
    in this process: no entry is made, read or written, and the cache folder gains none."""
    from ledger import batch
    from ledger.counting import kept
    from tests.test_batch import make_workers

    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    donations = make_workers(tmp_path / "in", 4)
    root = with_worker(import_demo(donations / "worker-00", "ledger"))
    outputs(root, cache, [COMMANDS[0]])
    before = entries(cache)
    assert before
    of = kept.Entry.of.__func__
    made: list[object] = []

    def spied(cls, *args, **kwargs):
        entry = of(cls, *args, **kwargs)
        if entry is not None:
            made.append(entry)
        return entry

    monkeypatch.setattr(kept.Entry, "of", classmethod(spied))
    monkeypatch.setattr(kept.Entry, "load", lambda self: pytest.fail("read"))
    monkeypatch.setattr(kept.Entry, "keep", lambda self, value: pytest.fail("written"))
    batch.run(donations, tmp_path / "out", key_file=tmp_path / "batch.key", jobs=1)
    assert made == []
    assert entries(cache) == before


def test_a_large_answer_is_not_kept(worker_ledger, tmp_path, monkeypatch):
    """An answer estimated over MAX_BYTES (a 1M-row ledger's month: reading it back costs what
    counting does) is counted every time, the same, and never written."""
    from ledger.counting import kept

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cold"))
    cold = _build(worker_ledger)
    assert entries(tmp_path / "cold")
    monkeypatch.setattr(kept, "MAX_BYTES", 1000)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert _build(worker_ledger) == cold
    assert entries(tmp_path / "cache") == {}


def test_the_names_kept_uses_are_the_modules_own():
    """kept.py names links.json and the online-rate cache without importing their modules."""
    from ledger.counting import kept
    from ledger.reconcile.links import LINKS_FILE
    from rules.fx import ONLINE_CACHE

    assert (kept.LINKS, kept.ONLINE_RATES) == (LINKS_FILE, ONLINE_CACHE)


def test_a_copied_ledger_keeps_its_own_answers(worker_ledger, tmp_path, monkeypatch):
    """The same bytes in another folder: another key (answers name the ledger's files)."""
    import shutil

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = _build(worker_ledger)
    kept = entries(tmp_path / "cache")
    copy = tmp_path / "copy"
    shutil.copytree(worker_ledger, copy)
    assert _build(copy) == first
    assert len(entries(tmp_path / "cache")) == 2 * len(kept)


def test_the_folder_keeps_the_newest_answers_only(worker_ledger, tmp_path, monkeypatch):
    """Past LIMIT answers the oldest are removed as a new one is kept: the folder stays
    bounded, and a removed answer is counted again, the same."""
    from ledger.counting import kept

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(kept, "LIMIT", 2)
    first = _build(worker_ledger, "2024-05")
    for month in ("2024-06", "2024-07", "2024-08"):
        _build(worker_ledger, month)
        assert len(entries(tmp_path / "cache")) == 2
    assert _build(worker_ledger, "2024-05") == first


def test_an_answer_read_is_kept_before_newer_ones(worker_ledger, tmp_path, monkeypatch):
    """Reading an answer marks it used: pruning removes the one used least lately."""
    import time

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from ledger.counting import kept

    _build(worker_ledger, "2024-05")
    may = set(entries(tmp_path / "cache"))  # a report keeps its counting and its costs
    monkeypatch.setattr(kept, "LIMIT", 2 * len(may))  # two reports' answers
    time.sleep(0.01)
    _build(worker_ledger, "2024-06")
    time.sleep(0.01)
    _build(worker_ledger, "2024-05")  # read: used last
    time.sleep(0.01)
    _build(worker_ledger, "2024-07")
    left = set(entries(tmp_path / "cache"))
    assert may <= left and len(left) == 2 * len(may)
