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
from ledger.batch.worker import WorkerTask, process, process_many
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


def test_chunk_gives_each_worker_the_per_worker_panel_row_for_row(chunk):
    """Every column but the hours ones equals the per-worker path's panel exactly; hours are
    the same where a source recorded them and null (not 0.0) where none did."""
    tasks, results = chunk
    got = _panel(tasks, results)
    want = pl.read_csv(GOLDEN, infer_schema=False)
    assert got.height == want.height == 621
    hours = ["hours", "unpaid_hours", "hours_source"]
    as_text = got.drop(hours).with_columns(pl.all().cast(pl.String))
    assert as_text.columns == want.drop("hours", "unpaid_hours").columns
    assert as_text.equals(want.drop("hours", "unpaid_hours").with_columns(
        pl.all().cast(pl.String)))
    old = want.select(pl.col("hours", "unpaid_hours").cast(pl.Float64))
    new = got.select(hours)
    recorded = new["hours_source"].is_not_null()
    # where no source recorded hours, the old panel said 0.0 for both
    assert (old.filter(~recorded).to_series(0) == 0).all()
    assert (old.filter(~recorded).to_series(1) == 0).all()
    assert new.filter(~recorded)["hours"].null_count() == (~recorded).sum()
    assert new.filter(recorded)["hours"].to_list() == old.filter(recorded)["hours"].to_list()
    has_sheet = new["hours_source"].str.contains("timesheet|rule").fill_null(False)
    assert (new.filter(has_sheet)["unpaid_hours"].to_list()
            == old.filter(has_sheet)["unpaid_hours"].to_list())
    assert new.filter(~has_sheet)["unpaid_hours"].null_count() == (~has_sheet).sum()


def test_chunk_keeps_each_workers_errors_rows_and_files(chunk):
    tasks, results = chunk
    assert [r.pseudonym for r in results] == [t.pseudonym for t in tasks]
    want = pl.read_csv(GOLDEN_COUNTS, infer_schema=False).with_columns(
        pl.col("errors").fill_null(""))
    got = _counts(tasks, results).with_columns(pl.all().cast(pl.String))
    assert got.equals(want)


def test_hours_source_says_where_hours_came_from(chunk):
    """worker-ruled: [[hours]] 12 paid hours for Acme in 2024-04 and 3 bidding hours in
    2024-05, Upwork hourly billing in 2024-06 (no timesheet, so unpaid hours are unknown
    there); worker-00 (a timesheet of June 2024 beside exports): 10.5 paid hours = 1.5 + 6
    + 3 (no client billed hours on a platform), 7.5 unpaid = 2:30 + 1:15 + 2 + 1:45."""
    tasks, results = chunk
    panel = _panel(tasks, results)
    ruled = panel.filter(pl.col("pseudonym") == "worker-ruled").select(
        "month", "net_usd", "hours", "unpaid_hours", "hours_source", "net_hourly_usd",
        "net_hourly_all_usd")
    billed = ruled["hours"][2]
    assert abs(billed - 14.333333) < 1e-6
    assert ruled.rows() == [
        ("2024-04", Decimal("213.22"), 12.0, 0.0, "rule", Decimal("17.77"), Decimal("17.77")),
        ("2024-05", Decimal("225.00"), 0.0, 3.0, "rule", None, Decimal("75.00")),
        ("2024-06", Decimal("219.80"), billed, None, "platform", Decimal("15.33"),
         Decimal("15.33"))]
    june = panel.filter(pl.col("pseudonym") == "worker-00").select(
        "month", "hours", "unpaid_hours", "hours_source").rows()
    assert june == [("2024-06", 10.5, 7.5, "timesheet")]
    quiet = panel.filter(pl.col("hours_source").is_null())
    assert quiet.height > 500 and quiet["hours"].null_count() == quiet.height
    assert quiet["unpaid_hours"].null_count() == quiet.height


def test_process_is_a_chunk_of_one(chunk):
    tasks, results = chunk
    for task, result in zip(tasks[:6], results[:6], strict=True):
        alone = process(task)
        assert alone.errors == result.errors and alone.rows == result.rows
        assert (alone.panel is None) == (result.panel is None)
        if alone.panel is not None:
            assert alone.panel.equals(result.panel)


def test_a_worker_failing_the_chunk_pass_fails_alone(chunk, monkeypatch):
    """If the chunk's months fail (a bug), the chunk is redone worker by worker: the failing
    worker gets an error row and no panel, every other worker its panel as before."""
    from ledger.batch import months as batch_months

    tasks, results = chunk
    real = batch_months.panel_rows

    def fails_for_worker_2(workers, *args):
        if 2 in workers[batch_months.W].to_list():
            raise ZeroDivisionError
        return real(workers, *args)

    monkeypatch.setattr(batch_months, "panel_rows", fails_for_worker_2)
    again = process_many(tasks[:5])
    assert again[2].panel is None and again[2].rows == 0
    assert again[2].errors == [("", "", None, "unexpected", "ZeroDivisionError")]
    for i in (0, 1, 3, 4):
        assert again[i].panel.equals(results[i].panel) and again[i].errors == results[i].errors
