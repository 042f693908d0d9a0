"""Where one `ledger import` spends its CPU: the functions named are wrapped, and each one's
CPU (user + system, every thread), minor page faults, wall time and calls are printed, with
the process's RSS and peak RSS after each call.

Why: the import targets are CPU ratios (README, "Speed and memory"), and polars' work runs on
its own threads, which a Python profiler does not see; page faults matter because `ledger
import` gives freed memory back at once (ledger/cli/process.py), so every fresh allocation is
faulted in again (~2 us per 4 KiB page).

Usage:
    STAGES="importers.readers read_table importers.payoneer;ledger.store.directory Ledger.commit" \\
        python bench/stages.py bench/out/payoneer-1000000.csv

STAGES: `;`-separated "module function [modules that imported the name ...]" (a function
imported by name elsewhere is wrapped there too; `Class.method` wraps a method). The export is
imported into a new temporary ledger, with the allocator setting `ledger import` uses.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable

TOTALS: dict[str, list[float]] = {}
"""name -> [CPU s, page faults, wall s, calls]"""


def _usage() -> tuple[float, int]:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime, used.ru_minflt


def _memory() -> str:
    with open("/proc/self/status") as status:
        found = dict(line.split(":", 1) for line in status if line.startswith("Vm"))
    return " ".join(f"{key} {int(found[key].split()[0]) // 1024} MiB"
                    for key in ("VmRSS", "VmHWM"))


def wrap(module_name: str, path: str) -> Callable:
    """Replace `module_name`'s `path` (a function, or `Class.method`) by a timed copy."""
    owner = importlib.import_module(module_name)
    *owners, name = path.split(".")
    for part in owners:
        owner = getattr(owner, part)
    function = getattr(owner, name)
    label = f"{module_name.rsplit('.', 1)[-1]}.{path}"

    @functools.wraps(function)
    def timed(*args: object, **kwargs: object) -> object:
        cpu, faults = _usage()
        wall = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            cpu_after, faults_after = _usage()
            total = TOTALS.setdefault(label, [0.0, 0, 0.0, 0])
            total[0] += cpu_after - cpu
            total[1] += faults_after - faults
            total[2] += time.perf_counter() - wall
            total[3] += 1
            print(f"  after {label}: {_memory()}", file=sys.stderr)

    setattr(owner, name, timed)
    return timed


def main(export: str) -> None:
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:-1")
    import polars  # noqa: F401  (loaded after the allocator setting, as `ledger import` does)

    for target in filter(str.strip, os.environ.get("STAGES", "").split(";")):
        module_name, path, *users = target.split()
        timed = wrap(module_name, path)
        for user in users:
            setattr(importlib.import_module(user), path.rsplit(".", 1)[-1], timed)
    from ledger.cli.main import main as ledger

    sys.argv = ["ledger", "--ledger", tempfile.mkdtemp(prefix="stages-"), "import", export]
    cpu, faults = _usage()
    with contextlib.suppress(SystemExit):
        ledger()
    cpu_after, faults_after = _usage()
    print(f"whole import: CPU {cpu_after - cpu:.2f} s, {(faults_after - faults) // 1000}k "
          "page faults", file=sys.stderr)
    for label, (spent, faulted, wall, calls) in TOTALS.items():
        print(f"{label:45s} CPU {spent:.3f} s  {int(faulted) // 1000:4d}k faults  wall "
              f"{wall:.3f} s  x{calls}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
