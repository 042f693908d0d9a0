"""Crash safety and concurrent use, through the real CLI.

`ledger import` is killed with SIGKILL at many random moments: the ledger must then read as the
state before the import or the state after it, never a mix, and `ledger doctor` must leave it
consistent. Two imports started at once must both land, one after the other.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import time

import pytest

from ledger.core.demo import OPTIONS
from ledger.store.directory import Ledger
from tests.cliserver import CLIENT
from tests.test_cli import COMMAND, DEMO, EXPORTS, as_json, import_all, ok, run

KILLS = 50
BEFORE = (EXPORTS[0], *(name for name in EXPORTS if name in OPTIONS))
"""Imported before: the first export, and those read with options of their own (the Payoneer
export, whose dates prove no order), so one command imports the rest."""
IMPORTED = tuple(name for name in EXPORTS if name not in BEFORE)


def state(root) -> tuple[frozenset[str], frozenset[str]]:
    """(row ids, import ids in effect) as any reader sees them."""
    ledger = Ledger(root)
    return (frozenset(ledger.rows()["id"].to_list()),
            frozenset(e["import_id"] for e in ledger.active_imports()))


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """A ledger before the import, and the two states a reader may see afterwards."""
    base = tmp_path_factory.mktemp("crash")
    import_all("old", cwd=base, names=BEFORE)
    shutil.copytree(base / "old", base / "new")
    started = time.perf_counter()
    ok(run("--ledger", "new", "import", *[DEMO / n for n in IMPORTED], cwd=base))
    duration = time.perf_counter() - started
    return base, state(base / "old"), state(base / "new"), duration


STEP_DELAY = 0.02
"""With LEDGER_STEP_DELAY set the store prints `step NAME` to stderr at each write step and
pauses there; the test kills after a random number of steps plus a random part of the pause,
so kills land at every stage (parsing, archiving, between log and ledger, after the commit)
however loaded the machine is."""


def test_killed_imports_leave_the_old_or_the_new_state(states, tmp_path):
    """Each `ledger import` is forked from the tests' warm server (tests/forkserver.py), so a
    kill costs the import's own work, not Python's start-up."""
    base, old, new, _ = states
    rng = random.Random(20261123)
    seen = {"old": 0, "new": 0}
    killed_inside = 0
    env = {k: v for k, v in os.environ.items() if k != "LEDGER_DIR"}
    env["LEDGER_STEP_DELAY"] = str(STEP_DELAY)
    for attempt in range(KILLS):
        root = tmp_path / f"run{attempt}"
        shutil.copytree(base / "old", root)
        fifo = tmp_path / f"stderr{attempt}"
        os.mkfifo(fifo)
        args = ["--ledger", str(root), "import", *[str(DEMO / n) for n in IMPORTED]]
        with (CLIENT.forked(args, cwd=tmp_path, env=env, stdout=os.devnull, stderr=fifo) as pid,
              open(fifo, "rb") as stderr):  # opens once the child has opened its end
            # an import of n files passes 2n + 5 steps (start, 2 per file, log, ledger, commit)
            steps = rng.randrange(0, 2 * len(IMPORTED) + 8)
            for _ in range(steps):
                if not stderr.readline():  # finished before that many steps
                    break
            time.sleep(rng.uniform(0, STEP_DELAY))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        now = state(root)
        assert now in (old, new), f"run {attempt}: a mix of old and new"
        killed_inside += len((root / "imports.jsonl").read_bytes()) > len(
            Ledger(root).committed_log())
        seen["old" if now == old else "new"] += 1
        findings = Ledger(root).doctor()
        assert all(f["repaired"] for f in findings), findings
        assert Ledger(root).doctor(repair=False) == []
        assert state(root) == now
        names = {p.name for p in (root / "sources").iterdir()}
        wanted = {e["archived"].removeprefix("sources/") for e in Ledger(root).active_imports()}
        assert names == wanted, f"run {attempt}: sources and log disagree"
    assert seen["old"] and seen["new"], seen  # the kills landed on both sides of the commit
    assert killed_inside, "no kill landed between the log and the ledger write"


def test_the_next_import_after_a_kill_completes_the_ledger(states, tmp_path):
    base, _, new, _ = states
    root = tmp_path / "led"
    shutil.copytree(base / "old", root)
    log = root / "imports.jsonl"
    committed = log.read_bytes()
    log.write_bytes(committed + b'{"event": "import", "import_id": "dead", "file": "x"}\n')
    assert state(root) == state(base / "old")  # the uncommitted entry is not read
    ok(run("--ledger", root, "import", *[DEMO / n for n in IMPORTED], cwd=tmp_path))
    assert state(root) == new
    assert b'"dead"' not in log.read_bytes()


def test_two_imports_at_once_both_land(states, tmp_path):
    base, _, new, _ = states
    root = tmp_path / "led"
    shutil.copytree(base / "old", root)
    env = {k: v for k, v in os.environ.items() if k != "LEDGER_DIR"}
    half = len(IMPORTED) // 2
    procs = [subprocess.Popen([*COMMAND, "--ledger", str(root), "import",
                               *[str(DEMO / n) for n in part]],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for part in (IMPORTED[:half], IMPORTED[half:])]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert state(root) == new
    entries = as_json(run("--ledger", root, "imports", "--format", "json", cwd=tmp_path))
    assert len(entries) == len(EXPORTS)


def test_a_lock_left_by_a_killed_process_does_not_block(states, tmp_path):
    base, _, new, _ = states
    root = tmp_path / "led"
    shutil.copytree(base / "old", root)
    holder = subprocess.Popen(
        ["python3", "-c", "import fcntl,sys,time; f=open(sys.argv[1],'a'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
         str(root / ".lock")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    ok(run("--ledger", root, "import", *[DEMO / n for n in IMPORTED], cwd=tmp_path))
    assert state(root) == new
