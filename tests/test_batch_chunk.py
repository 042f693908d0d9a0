"""`ledger batch` in chunks (issue 22): `batch_worker.process_many` counts a chunk of workers
together, grouped by worker, and must give each worker exactly the panel rows, errors and
counts it gets alone.

The reference is tests/data/batch/chunk-panel.csv: the panel of the same chunk written by the
per-worker path before it was vectorised (`make_golden` below, kept to regenerate it), with
`hours`/`unpaid_hours` as they were then (0.0 for a month without hours; now null, with
`hours_source` saying where hours came from).
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ledger import batch
from ledger.batch_columns import PANEL
from ledger.batch_worker import WorkerTask, process, process_many
from tests.test_batch import DATA, TIMESHEET, make_workers

GOLDEN = DATA / "batch" / "chunk-panel.csv"
GOLDEN_COUNTS = DATA / "batch" / "chunk-counts.csv"
KEY = b"k" * 32
RULED_TOML = """country = "IN"

[[rules]]
id = "acme-imps"
description = "IMPS.*ACME"
sign = "credit"
set = { kind = "earning", client = "Acme LLC" }

[[hours]]
client = "Acme LLC"
month = "2024-04"
hours = 12

[[hours]]
month = "2024-05"
hours = 3
kind = "bidding"
"""


def chunk_tasks(root: Path) -> list[WorkerTask]:
    """A mixed chunk: 24 workers of 1-3 golden exports of every format (timesheets in some,
    countries from country.txt, ledger.toml or nowhere, a bad file beside good ones, a file of
    unknown layout alone), plus a worker whose ledger.toml has user rules and [[hours]], one
    with only a timesheet and one with a ledger.toml that does not parse."""
    make_workers(root, 24)
    ruled = root / "worker-ruled"
    ruled.mkdir()
    shutil.copy(DATA / "bank" / "hdfc.csv", ruled)
    shutil.copy(DATA / "upwork" / "classic.csv", ruled)
    (ruled / "ledger.toml").write_text(RULED_TOML)
    sheet_only = root / "worker-sheet-only"
    sheet_only.mkdir()
    shutil.copy(TIMESHEET, sheet_only)
    broken = root / "worker-broken-toml"
    broken.mkdir()
    shutil.copy(DATA / "paypal" / "activity-en.csv", broken)
    (broken / "ledger.toml").write_text('country = "PK"\n[[rules]\n')
    settings = batch.load_settings(None)
    return [batch.make_task(w, KEY, settings) for w in batch.discover(root)]


def _names(tasks: list[WorkerTask]) -> dict[str, str]:
    """pseudonym -> worker folder name (the golden file names workers by folder)."""
    return {t.pseudonym: Path(t.files[0][0] if t.files else t.config[0]).parent.name
            for t in tasks}


def _panel(tasks: list[WorkerTask], results: list) -> pl.DataFrame:
    names = _names(tasks)
    frames = [r.panel.with_columns(pl.lit(names[r.pseudonym]).alias("pseudonym"))
              for r in results if r.panel is not None]
    return pl.concat(frames).sort("pseudonym", "month")


def _counts(tasks: list[WorkerTask], results: list) -> pl.DataFrame:
    """Per worker: rows, files read and each error as (file name, line, code, detail)."""
    names = _names(tasks)
    return pl.DataFrame([
        (names[r.pseudonym], r.rows, r.files_read,
         ";".join(f"{Path(path).name}:{line}:{code}:{detail}"
                  for _, path, line, code, detail in r.errors)) for r in results],
        schema=["worker", "rows", "files_read", "errors"], orient="row").sort("worker")


def make_golden(root: Path) -> None:
    """Write GOLDEN from the per-worker path (run once, from the code before chunking)."""
    tasks = chunk_tasks(root)
    results = [process(t) for t in tasks]
    GOLDEN.parent.mkdir(exist_ok=True)
    _panel(tasks, results).with_columns(pl.col(pl.Decimal).cast(pl.String)).write_csv(GOLDEN)
    _counts(tasks, results).write_csv(GOLDEN_COUNTS)


@pytest.fixture(scope="module")
def chunk(tmp_path_factory):
    tasks = chunk_tasks(tmp_path_factory.mktemp("chunk") / "donations")
    return tasks, process_many(tasks)
