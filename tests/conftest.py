"""Shared fixtures: a fresh ledger directory per test and paths to the golden exports."""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path

import pytest

# the tests' own user cache folder (a locale's number data: ledger/core/locale_data.py), for
# every test and the ledger processes they start, not the cache of whoever runs them
if "LEDGER_TEST_CACHE" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["LEDGER_TEST_CACHE"] = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(
        prefix="ledger-test-cache-")
    atexit.register(shutil.rmtree, os.environ["LEDGER_TEST_CACHE"], True)

DATA = Path(__file__).parent / "data"
TODAY = dt.date(2026, 11, 23)
UPWORK = DATA / "upwork" / "classic.csv"
PAYPAL = DATA / "paypal" / "activity-en.csv"


@pytest.fixture
def ledger(tmp_path):
    from ledger.store.directory import Ledger

    return Ledger(tmp_path / "ledger")


@pytest.fixture
def options():
    from importers.base import ImportOptions

    return ImportOptions(today=TODAY)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` (relative path -> bytes); {} when `root` does not exist."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture
def june(ledger, options):
    """A ledger with the Upwork and PayPal goldens of June 2024 and one EUR->USD rate."""
    ledger.root.mkdir(parents=True)
    ledger.rates_path.write_text("date,from,to,rate\n2024-06-03,EUR,USD,1.0850\n")
    ledger.import_files([UPWORK, PAYPAL], options)
    return ledger


SLOWEST_FIRST = ("test_crash.py::test_killed_imports", "test_statement.py::test_every_line",
                 "test_export_tools.py::test_a_50k_row", "test_batch.py::",
                 "test_batch_engine.py::")
"""Tests that take tens of seconds each start first, so that under `-n 2 --dist worksteal` the
short ones fill in around them instead of one long test running alone at the end."""


def pytest_collection_modifyitems(config, items) -> None:
    def slow(item) -> bool:
        return any(mark in item.nodeid for mark in SLOWEST_FIRST)

    items.sort(key=lambda item: not slow(item))  # stable: the rest keep their order


CPU_RECORD = os.environ.get("LEDGER_TEST_CPU")
"""With LEDGER_TEST_CPU=FILE each test appends `nodeid<TAB>cpu<TAB>wall` to FILE: the CPU seconds
of its setup, call and teardown in this process, in the subprocesses it waited for and in the
commands forked for it (tests/cliserver.py counts those), so the costly tests can be found
under xdist as well as alone."""


if CPU_RECORD:
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(item, nextitem):
        def cpu() -> float:
            own = time.process_time()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            client = sys.modules.get("tests.cliserver")
            return (own + children.ru_utime + children.ru_stime
                    + (client.CLIENT.cpu if client else 0.0))

        start, wall = cpu(), time.perf_counter()
        yield
        line = f"{item.nodeid}\t{cpu() - start:.3f}\t{time.perf_counter() - wall:.3f}\n"
        with open(CPU_RECORD, "a", encoding="utf-8") as record:
            record.write(line)
