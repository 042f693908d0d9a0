"""`ledger` commands for the tests, forked from one process that has imported the CLI already.

Starting Python and importing polars, typer, rich and the importers costs about 0.6 s of CPU
per command, and the suite runs several hundred commands: that start-up was most of the suite's
time. One server per pytest process imports the code once (no polars query runs, so no thread
pool exists yet) and forks a child per command. The child is a new process as
`subprocess.run` would start one: its own cwd, environment, stdin from /dev/null, stdout and
stderr captured in files, the exit code of `ledger.cli.main.main` (a traceback and 1 for an
uncaught exception, as Python prints it). Only the start-up is shared.

LEDGER_TEST_SUBPROCESS=1 runs real processes instead (tests/test_cli.py `run`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path


def _exit_code(code: object) -> int:
    """The status Python exits with for `SystemExit(code)` (a message goes to stderr)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1


def _child(request: dict) -> None:
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY),
                            (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        opened = os.open(path, flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = ["ledger", *request["args"]]
    code = 0
    try:
        from ledger.cli.main import main

        main()
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _preload() -> None:
    """Import what commands need, once: polars, the CLI, every importer and library module."""
    import importlib
    import pkgutil
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import polars  # noqa: F401

        import importers
        import ledger
        import ledger.cli.main
        import rules

        for package in (ledger, importers, rules):
            for module in pkgutil.iter_modules(package.__path__):
                with contextlib.suppress(Exception):
                    importlib.import_module(f"{package.__name__}.{module.name}")


def serve() -> None:
    from forkserver import answer  # run as a script: tests/ is on sys.path

    _preload()
    answer(_child)


class Client:
    """The server of this pytest process, started on first use and stopped at exit."""

    def __init__(self) -> None:
        self.server: subprocess.Popen[str] | None = None
        self.scratch = Path(tempfile.mkdtemp(prefix="ledger-cli-"))
        self.count = 0

    def _start(self) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DIR", "LEDGER_DEBUG")}
        server = subprocess.Popen([sys.executable, str(Path(__file__))],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, env=env,
                                  cwd=Path(__file__).parent.parent)
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError("the ledger fork server did not start")
        atexit.register(self.close)
        return server

    def close(self) -> None:
        if self.server is not None:
            self.server.stdin.close()
            self.server.wait(timeout=30)
            self.server = None
        import shutil

        shutil.rmtree(self.scratch, ignore_errors=True)

    def run(self, args: list[str], cwd: Path, env: dict[str, str], timeout: float,
            ) -> subprocess.CompletedProcess[str]:
        """`ledger ARGS` as `subprocess.run(..., capture_output=True, text=True)` returns it;
        TimeoutExpired after killing the child, as subprocess.run does."""
        if self.server is None or self.server.poll() is not None:
            self.server = self._start()
        self.count += 1
        out, err = self.scratch / f"{self.count}.out", self.scratch / f"{self.count}.err"
        self.server.stdin.write(json.dumps({"args": args, "cwd": str(cwd), "env": env,
                                            "stdout": str(out), "stderr": str(err)}) + "\n")
        self.server.stdin.flush()
        pid = int(self.server.stdout.readline().split()[1])
        timer = _Timer(timeout, pid)
        try:
            words = self.server.stdout.readline().split()
        finally:
            timer.cancel()
        assert words[:2] == ["exit", str(pid)], words
        stdout, stderr = (p.read_text("utf-8", errors="replace") for p in (out, err))
        out.unlink()
        err.unlink()
        if timer.fired:
            raise subprocess.TimeoutExpired(["ledger", *args], timeout, stdout, stderr)
        return subprocess.CompletedProcess(["ledger", *args], int(words[2]), stdout, stderr)


class _Timer:
    """Kills `pid` (SIGKILL) after `seconds` unless cancelled first."""

    def __init__(self, seconds: float, pid: int) -> None:
        import threading

        self.fired = False
        self._pid = pid
        self._timer = threading.Timer(seconds, self._kill)
        self._timer.daemon = True
        self._timer.start()

    def _kill(self) -> None:
        self.fired = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)

    def cancel(self) -> None:
        self._timer.cancel()


CLIENT = Client()


if __name__ == "__main__":
    serve()
