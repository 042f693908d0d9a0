"""`ledger` commands for the tests, forked from a warm server (tests/forkserver.py).

One server per pytest process, started on first use: `run` is `subprocess.run` for a command
forked from it; `forked` lets a test act on the child while it runs (the crash test kills it at
a chosen step). The CPU each child used is counted (`CLIENT.cpu`), so the tests'
CPU record (tests/conftest.py, LEDGER_TEST_CPU) charges it to the test that ran it.

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
from collections.abc import Iterator
from pathlib import Path


class Client:
    """The server of this pytest process, started on first use and stopped at exit."""

    def __init__(self) -> None:
        self.server: subprocess.Popen[str] | None = None
        self.scratch = Path(tempfile.mkdtemp(prefix="ledger-cli-"))
        self.count = 0
        self.cpu = 0.0
        """CPU seconds of the children reaped so far."""

    def _start(self) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DIR", "LEDGER_DEBUG")}
        server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("forkserver.py"))],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, env=env,
                                  cwd=Path(__file__).parent.parent)
        said = server.stdout.readline().strip()
        if said != "ready":
            raise RuntimeError(f"the ledger fork server did not start: {said!r}")
        atexit.register(self.close)
        return server

    def close(self) -> None:
        if self.server is not None:
            self.server.stdin.close()
            self.server.wait(timeout=30)
            self.server = None
        import shutil

        shutil.rmtree(self.scratch, ignore_errors=True)

    @contextlib.contextmanager
    def forked(self, args: list[str], cwd: Path, env: dict[str, str], stdout: str | Path,
               stderr: str | Path) -> Iterator[int]:
        """`ledger ARGS` running (output to the files named, which may be FIFOs): its pid.
        On leaving, the child is waited for (killed first if the block raised)."""
        pid = self._spawn(args, cwd, env, stdout, stderr)
        try:
            yield pid
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            raise
        finally:
            self._reap(pid)

    def _spawn(self, args: list[str], cwd: Path, env: dict[str, str], stdout: str | Path,
               stderr: str | Path) -> int:
        if self.server is None or self.server.poll() is not None:
            self.server = self._start()
        self.server.stdin.write(json.dumps({"args": args, "cwd": str(cwd), "env": env,
                                            "stdout": str(stdout), "stderr": str(stderr)}) + "\n")
        self.server.stdin.flush()
        words = self.server.stdout.readline().split()
        assert words[:1] == ["pid"], words
        return int(words[1])

    def _reap(self, pid: int) -> int:
        """The exit code of the child `pid` once it has ended (its CPU is counted)."""
        assert self.server is not None
        words = self.server.stdout.readline().split()
        assert words[:2] == ["exit", str(pid)], words
        self.cpu += float(words[3])
        return int(words[2])

    def run(self, args: list[str], cwd: Path, env: dict[str, str], timeout: float,
            ) -> subprocess.CompletedProcess[str]:
        """`ledger ARGS` as `subprocess.run(..., capture_output=True, text=True)` returns it;
        TimeoutExpired after killing the child, as subprocess.run does."""
        self.count += 1
        out, err = self.scratch / f"{self.count}.out", self.scratch / f"{self.count}.err"
        pid = self._spawn(args, cwd, env, out, err)
        timer = _Timer(timeout, pid)
        try:
            code = self._reap(pid)
        finally:
            timer.cancel()
        stdout, stderr = (p.read_text("utf-8", errors="replace") for p in (out, err))
        out.unlink()
        err.unlink()
        if timer.fired:
            raise subprocess.TimeoutExpired(["ledger", *args], timeout, stdout, stderr)
        return subprocess.CompletedProcess(["ledger", *args], code, stdout, stderr)


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
