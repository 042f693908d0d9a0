"""A fork server for the crash test: imports the CLI once, then forks a fresh `ledger` per request.

The crash test kills `ledger import` 50 times; starting Python and importing polars and the
importers each time cost more than the import itself. Each request is one JSON line on stdin
(`{"args": [...], "env": {...}, "stderr": FIFO}`); the server answers `pid N` when the child
runs and `exit N CODE` when it has reaped it. The child's stderr goes to the named FIFO, so the
test reads its `step` lines and kills it (SIGKILL) exactly as it would a process it started.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable


def _child(request: dict) -> None:
    os.environ.clear()
    os.environ.update(request["env"])
    err = os.open(request["stderr"], os.O_WRONLY)
    os.dup2(err, 2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    sys.argv = ["ledger", *request["args"]]
    code = 0
    try:
        from ledger.cli.main import main

        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # a crash is reported as exit 1, like the real process
        code = 1
    sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    import warnings

    warnings.simplefilter("ignore")  # polars warns that fork may deadlock a started thread pool
    import importlib
    import pkgutil

    import polars  # noqa: F401  - what an import needs, loaded once (no query runs before fork)

    import importers
    import ledger.cli.main
    import ledger.store  # noqa: F401

    for module in pkgutil.iter_modules(importers.__path__):
        importlib.import_module(f"importers.{module.name}")

    answer(_child)


def answer(child: Callable[[dict], None]) -> None:
    """Say `ready`, then fork `child(request)` per JSON line of stdin: `pid N`, `exit N CODE`
    (also the loop of tests/cliserver.py)."""
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(request)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {pid} {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    serve()
