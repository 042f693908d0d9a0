"""`ledger batch` on a real Dask cluster (issue 22): --scheduler gives the local run's panel,
a worker killed mid-run changes nothing, and the private map and the progress lines.

The cluster is a `LocalCluster` of two worker processes on 127.0.0.1 (tcp), made once per
module; donations are a few golden exports (tests/test_batch.make_workers), so it stays fast.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import signal
from pathlib import Path

import polars as pl
import pytest

from ledger import batch
from ledger.batch.anon import file_pseudonym, pseudonym
from ledger.batch.engine import DELAY_ENV, content_hash, plan
from tests.test_batch import make_workers, read_panel
from tests.test_cli import ok, run

ORDER = ["pseudonym", "month"]


@pytest.fixture(scope="module")
def cluster():
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 3}), LocalCluster(
            n_workers=2, processes=True, protocol="tcp", host="127.0.0.1",
            threads_per_worker=1, dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
            silence_logs=logging.ERROR) as local, Client(local) as client:
        yield local, client


def same_outputs(a: Path, b: Path) -> None:
    assert read_panel(a).sort(ORDER).equals(read_panel(b).sort(ORDER))
    for name in ("summary.csv", "README.md", "errors.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_scheduler_runs_the_chunks_on_the_cluster_with_the_local_panel(cluster, tmp_path):
    from distributed import get_task_stream

    local_cluster, client = cluster
    make_workers(tmp_path / "in", 5)
    local = batch.run(tmp_path / "in", tmp_path / "local", key_file=tmp_path / "k.key",
                      jobs=2)  # the default: a LocalCluster made on the spot
    assert local.chunks == 5
    with get_task_stream(client) as stream:
        result = ok(run("batch", "in", "--out", "remote", "--key-file", "k.key",
                        "--scheduler", local_cluster.scheduler_address, cwd=tmp_path))
    assert "5 workers" in result.stdout
    ran = [t for t in stream.data if str(t["key"]).startswith("ledger-chunk-")]
    assert len(ran) == 5 and {t["worker"] for t in ran} <= set(
        client.scheduler_info()["workers"])
    same_outputs(tmp_path / "local", tmp_path / "remote")


def test_a_worker_killed_mid_run_leaves_the_same_complete_panel(cluster, tmp_path):
    local_cluster, client = cluster
    make_workers(tmp_path / "in", 6)
    key = tmp_path / "k.key"
    batch.run(tmp_path / "in", tmp_path / "reference", key_file=key, jobs=1)
    client.wait_for_workers(2)
    pids = sorted(client.run(os.getpid).values())
    client.run(lambda: os.environ.update({DELAY_ENV: "1"}))  # each chunk sleeps 1 s first
    killed: list[tuple[int, int]] = []

    def tick(done: int, total: int) -> None:
        if not killed and done < total:  # both workers are inside a chunk's sleep now
            os.kill(pids[0], signal.SIGKILL)
            killed.append((done, total))

    try:
        result = batch.run(tmp_path / "in", tmp_path / "out", key_file=key, progress=tick,
                           scheduler=local_cluster.scheduler_address)
    finally:
        client.run(lambda: os.environ.pop(DELAY_ENV, None))
    assert killed and killed[0][0] < 6 and result.workers == 6
    same_outputs(tmp_path / "reference", tmp_path / "out")
    assert len(list((tmp_path / "out" / "_chunks").glob("*.json"))) == 6
    assert not list((tmp_path / "out").rglob("*.tmp"))
    client.wait_for_workers(2)
    assert pids[0] not in client.run(os.getpid).values()  # the nanny started a new one


def test_chunk_keys_depend_on_inputs_not_on_the_cluster(tmp_path):
    make_workers(tmp_path / "in", 3)
    workers = batch.discover(tmp_path / "in")
    key, settings = b"k" * 32, batch.load_settings(None)
    tasks = [batch.make_task(w, key, settings) for w in workers]

    def keys(**options) -> list[str]:
        kind = {"bands": False, "fiscal": False} | options
        return [c.key for c in plan(tasks, key, settings, tmp_path / "o", **kind)]

    assert keys() == keys() and len(set(keys())) == 3
    assert set(keys(bands=True)).isdisjoint(keys())
    assert set(keys()).isdisjoint(c.key for c in plan(tasks, b"j" * 32, settings,
                                                      tmp_path / "o", bands=False,
                                                      fiscal=False))
    before = keys()
    os.utime(workers[1].files[0], ns=(1, 1))  # a changed donation: its chunk only
    after = keys()
    assert sum(x != y for x, y in zip(before, after, strict=True)) == 1


def test_the_map_names_folders_and_files_and_stays_out_of_the_panel(tmp_path):
    make_workers(tmp_path / "in", 3)
    mapping = tmp_path / "private" / "map.csv"
    batch.run(tmp_path / "in", tmp_path / "out", key_file=tmp_path / "k.key", jobs=1,
              map_file=mapping)
    assert mapping.stat().st_mode & 0o777 == 0o600
    key = (tmp_path / "k.key").read_bytes()
    import hashlib
    import hmac

    salt = hmac.new(key, b"ledger batch content hash", hashlib.sha256).digest()
    rows = list(csv.DictReader(io.StringIO(mapping.read_text())))
    expected = []
    for i in range(3):
        folder = tmp_path / "in" / f"worker-{i:02d}"
        name = pseudonym(key, folder.name)
        expected.append((name, str(folder), "", "", ""))
        for path in sorted(p for p in folder.iterdir() if p.name not in (
                "country.txt", "ledger.toml")):
            expected.append((name, str(folder), file_pseudonym(key, folder.name, path.name),
                             content_hash(str(path), salt), str(path)))
    assert sorted(tuple(r.values()) for r in rows) == sorted(expected)
    for output in (tmp_path / "out").rglob("*"):
        if output.is_file():
            assert b"worker-0" not in output.read_bytes(), output


def test_progress_lines_every_n_seconds_and_at_the_end():
    from ledger.cli.batch import ticker

    now = [100.0]
    stream = io.StringIO()
    tick = ticker(10, stream, clock=lambda: now[0])
    for done, at in ((1, 103.0), (2, 111.0), (3, 115.0), (4, 119.0)):
        now[0] = at
        tick(done, 4)
    assert stream.getvalue() == (
        "batch: 2/4 workers (50%), 11 s elapsed, ETA 11 s\n"
        "batch: 4/4 workers (100%), 19 s elapsed, ETA 0 s\n")
    stream = io.StringIO()
    tick = ticker(10, stream, clock=lambda: now[0])
    now[0] += 75
    tick(1, 3)
    assert stream.getvalue() == "batch: 1/3 workers (33%), 1 min 15 s elapsed, ETA 2 min 30 s\n"


def test_progress_lines_reach_a_log_when_stderr_is_not_a_terminal(tmp_path):
    make_workers(tmp_path / "in", 2)
    result = ok(run("batch", "in", "--out", "out", "--jobs", "1", "--progress-every", "0.001",
                    cwd=tmp_path))
    assert "batch: 2/2 workers (100%)" in result.stderr
    assert pl.read_csv(tmp_path / "out" / "summary.csv").height > 0


def test_the_on_the_spot_clusters_logs_show_no_dask_traceback(monkeypatch):
    """Dask's processes print their logs to the user's terminal: only CRITICAL ones (a worker's
    heartbeat racing the scheduler's shutdown once logged a traceback at ERROR after a
    finished batch), ERROR with LEDGER_DEBUG."""
    import distributed

    from ledger.batch import engine
    from ledger.batch.engine import cluster_log_level

    seen = []

    class Made(Exception):
        pass

    def cluster(**options):
        seen.append(options["silence_logs"])
        raise Made

    monkeypatch.setattr(distributed, "LocalCluster", cluster)
    monkeypatch.delenv("LEDGER_DEBUG", raising=False)
    assert cluster_log_level() == logging.CRITICAL
    with pytest.raises(Made):
        list(engine._on_dask([], 1, None))
    monkeypatch.setenv("LEDGER_DEBUG", "1")
    assert cluster_log_level() == logging.ERROR
    assert seen == [logging.CRITICAL]  # the cluster is made at that level
