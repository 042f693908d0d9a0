"""`make bench-batch`: `ledger batch` over many synthetic workers, against its targets.

Generates N worker folders (default 10,000 workers, 10M rows in total) with the seeded
generators of `make bench` (PayPal, Upwork, Payoneer, HDFC bank CSV; 1-3 formats per worker,
row counts skewed like real earnings, a country.txt each, and an unreadable file for one worker
in 200), in a pool of processes; then runs `ledger batch` as a subprocess and prints its wall
time and peak memory (the whole process tree: the main process and its Dask processes, sampled every
0.1 s from /proc) against the targets on a 2-core machine (issue 22): 10,000 workers / 10M
rows in at most 120 s, under 4 GB, and rows/s within 2x of `ledger import` on the same rows
(a sample of the workers' files, at least --import-rows rows, imported in one call into a
scratch ledger). Each target is printed met or missed; at a smaller size the wall time is
projected to 10M rows. The load average is printed with it: the machine may be shared.

Inputs are kept under bench/out/batch-<workers>-<rows>/input and reused when complete.

Usage: python bench/batch.py [--workers N] [--rows N] [--jobs N] [--regenerate]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
OUT = HERE / "out"
LEDGER = Path(sys.executable).parent / "ledger"
COUNTRIES = ("PK", "PK", "PK", "PH", "PH", "IN", "IN", "BD", "NG", "KE")
FORMATS = ("paypal", "upwork", "payoneer", "hdfc")
TARGET_SECONDS = 120
TARGET_MB = 4096
TARGET_IMPORT_RATIO = 2
"""`ledger batch` rows/s at least 1/2 of `ledger import`'s on the same rows."""
MIN_ROWS = 4


def plan(workers: int, rows: int, seed: int = 2024) -> list[tuple[int, str, list[tuple[str, int]]]]:
    """Per worker: (index, country, [(format, rows)]), rows summing to `rows` overall."""
    rng = random.Random(seed)
    weights = [rng.lognormvariate(0, 0.8) for _ in range(workers)]
    scale = rows / sum(weights)
    out = []
    for index, weight in enumerate(weights):
        total = max(MIN_ROWS, round(weight * scale))
        chosen = rng.sample(FORMATS, rng.choice((1, 1, 2, 2, 3)))
        cuts = sorted(rng.sample(range(1, total), len(chosen) - 1)) if len(chosen) > 1 \
            and total > len(chosen) * MIN_ROWS else []
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
        if len(sizes) != len(chosen):
            chosen, sizes = chosen[:1], [total]
        sizes = [max(MIN_ROWS, s) for s in sizes]
        out.append((index, rng.choice(COUNTRIES), list(zip(chosen, sizes, strict=True))))
    return out


def make_worker(folder: str, index: int, country: str, files: list[tuple[str, int]]) -> int:
    """Write one worker folder; returns the rows written."""
    sys.path.insert(0, str(ROOT))
    from bench.gen_bank import write_hdfc
    from bench.gen_payoneer import write_payoneer
    from bench.generate import write_paypal, write_upwork

    target = Path(folder) / f"worker-{index:06d}"
    target.mkdir(parents=True, exist_ok=True)
    (target / "country.txt").write_text(country + "\n")
    seed = 1000 + index
    for name, size in files:
        if name == "paypal":
            write_paypal(target / "Download.CSV", size, seed)
        elif name == "upwork":
            write_upwork(target / "statements.csv", size, seed)
        elif name == "payoneer":  # the generator starts in 2016: move it next to the others;
            # from 13 January, so a day above 12 dates each file month-first, as a month's
            # export would be (a few days of 1-12 January could be read either way: refused,
            # and `ledger batch` cannot be told the order)
            path = write_payoneer(target / "payoneer.csv", size, seed,
                                  start=dt.datetime(2016, 1, 13, 8, 0, 0))
            path.write_text(re.sub(r"^(\d\d/\d\d)/2016,", r"\1/2024,", path.read_text(),
                                   flags=re.MULTILINE))
        else:  # HDFC starts in 2020 (DD/MM/YY): likewise
            path = write_hdfc(target / "hdfc.csv", size, seed)
            path.write_text(re.sub(r"(\d\d/\d\d)/20,", r"\1/24,", path.read_text()))
    if index % 200 == 7:
        (target / "notes.csv").write_text("not,an,export\n1,2,3\n")
    return sum(size for _, size in files)


GENERATION = 2
"""Bumped when the generated files change, so inputs kept from before are made again (2:
Payoneer files from 13 January, their dates proving month-first)."""


def generate(folder: Path, workers: int, rows: int, jobs: int) -> int:
    stamp = folder / f".complete-{GENERATION}"
    if stamp.exists():
        return int(stamp.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    jobs_plan = plan(workers, rows)
    start = time.perf_counter()
    import multiprocessing

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        written = sum(pool.map(make_worker, [str(folder)] * len(jobs_plan),
                               *zip(*jobs_plan, strict=True), chunksize=16))
    stamp.write_text(str(written))
    print(f"generated {workers:,} workers, {written:,} rows in "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
    return written


def _tree_rss_kb(pid: int) -> tuple[int, int]:
    """(sum, max) of VmRSS over `pid` and its descendants, in kB."""
    total = largest = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            match = re.search(r"^VmRSS:\s+(\d+)", status, re.MULTILINE)
            rss = int(match[1]) if match else 0
            total += rss
            largest = max(largest, rss)
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total, largest


def run_batch(cmd: list[str]) -> tuple[float, float, float, float, str]:
    """(wall seconds, CPU seconds of the whole tree, peak tree RSS MB, peak single-process
    RSS MB, stdout). CPU time tells what the wall time would be on an idle machine."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = single = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        total, largest = _tree_rss_kb(proc.pid)
        peak, single = max(peak, total), max(single, largest)
        time.sleep(0.1)
    wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime  # includes the Dask processes it reaped
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    if proc.returncode != 0:
        raise SystemExit(f"ledger batch failed ({proc.returncode}):\n{err}")
    return wall, cpu, peak / 1024, single / 1024, out


def import_rate(base: Path, rows_wanted: int) -> tuple[int, float, float]:
    """(rows, wall s, CPU s) of one `ledger import` of the first workers' exports (until
    `rows_wanted` rows) into a scratch ledger; the unreadable planted files are left out
    (`ledger import` takes all files or none)."""
    files, rows = [], 0
    for folder in sorted((base / "input").iterdir()):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name in ("country.txt", "notes.csv"):
                continue
            files.append(str(path))
            rows += sum(1 for _ in path.open("rb"))
        if rows >= rows_wanted:
            break
    scratch = base / "import-ledger"
    for _ in range(50):  # a file `ledger batch` reports as an error fails the whole import
        shutil.rmtree(scratch, ignore_errors=True)
        start = time.perf_counter()
        before = os.times()
        done = subprocess.run([str(LEDGER), "--ledger", str(scratch), "import", *files,
                               "--format", "json"], capture_output=True, text=True)
        after = os.times()
        wall = time.perf_counter() - start
        bad = next((f for f in files if done.stderr.startswith(f + ":")), None)
        if done.returncode == 0 or bad is None:
            break
        files.remove(bad)
    if done.returncode != 0:
        raise SystemExit(f"ledger import failed ({done.returncode}):\n{done.stderr[-2000:]}")
    import json

    read = json.loads(done.stdout)
    imported = sum(f.get("rows_read", 0) for f in read.get("files", [])) or rows
    shutil.rmtree(scratch, ignore_errors=True)
    cpu = (after.children_user - before.children_user) + (after.children_system
                                                         - before.children_system)
    return imported, wall, cpu


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--import-rows", type=int, default=200_000,
                        help="rows of the workers' files `ledger import` reads for the ratio")
    args = parser.parse_args()
    base = OUT / f"batch-{args.workers}-{args.rows}"
    if args.regenerate:
        shutil.rmtree(base, ignore_errors=True)
    rows = generate(base / "input", args.workers, args.rows, args.jobs)
    files = sum(1 for p in (base / "input").rglob("*") if p.is_file()
                and p.name != "country.txt" and not p.name.startswith("."))
    panel = base / "panel"
    shutil.rmtree(panel, ignore_errors=True)
    cmd = [str(LEDGER), "batch", str(base / "input"), "--out", str(panel), "--key-file",
           str(base / "batch.key"), "--jobs", str(args.jobs)]
    wall, cpu, peak, single, out = run_batch(cmd)
    import polars as pl

    parts = pl.scan_parquet(sorted((panel / "panel").rglob("*.parquet")), glob=False)
    panel_rows = f"{parts.select(pl.len()).collect().item():,}"
    errors = max(0, len((panel / "errors.csv").read_text().splitlines()) - 1)
    scale = 10_000_000 / max(rows, 1)
    print(f"\n`ledger batch` on {os.cpu_count()} cores, --jobs {args.jobs}\n")
    print("| workers | rows | files | panel rows | errors | wall | CPU (all processes) | "
          "peak RSS (tree) | peak RSS (one process) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.workers:,} | {rows:,} | {files:,} | {panel_rows} | {errors} | "
          f"{wall:.1f} s | {cpu:.1f} s | {peak:,.0f} MB | {single:,.0f} MB |")
    load = os.getloadavg()[0]
    print(f"\nload average at the end: {load:.1f} on {os.cpu_count()} cores; an idle machine "
          f"would take about CPU / jobs = {cpu / args.jobs:.0f} s")
    print(f"\nthroughput: {rows / wall:,.0f} rows/s ({rows / cpu:,.0f} rows per CPU second), "
          f"{args.workers / wall:,.1f} workers/s"
          + (f"; at 10M rows about {wall * scale:.0f} s" if scale != 1 else ""))
    load_before = os.getloadavg()[0]
    imported, import_wall, import_cpu = import_rate(base, min(args.import_rows, rows))
    print(f"`ledger import` of {imported:,} of the same rows: {imported / import_wall:,.0f} "
          f"rows/s ({imported / max(import_cpu, 1e-9):,.0f} rows per CPU second; load "
          f"{load_before:.1f} -> {os.getloadavg()[0]:.1f})")
    projected = wall * scale
    ratio = (imported / import_wall) / (rows / wall)
    size = "" if scale == 1 else " (projected from this size)"
    print(f"\ntargets (issue 22; 2 cores, 10,000 workers / 10M rows):\n"
          f"- wall at 10M rows <= {TARGET_SECONDS} s: {projected:.0f} s{size} -> "
          f"{verdict(projected <= TARGET_SECONDS)}\n"
          f"- peak memory < {TARGET_MB // 1024} GB: {peak:,.0f} MB -> {verdict(peak < TARGET_MB)}"
          f"\n- rows/s within {TARGET_IMPORT_RATIO}x of `ledger import`: import is {ratio:.1f}x "
          f"faster -> {verdict(ratio <= TARGET_IMPORT_RATIO)}")
    print(out.strip())


if __name__ == "__main__":
    main()
