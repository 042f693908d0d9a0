"""`ledger` as the process (ledger/cli/process.py) collects garbage less often and ends
without Python's teardown: the same output, exit status and atexit work as a normal exit;
in-process callers, profilers and other threads get the normal exit and garbage collector."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

RUN_AS_PROGRAM = textwrap.dedent("""
    import atexit, gc, runpy, sys
    mark, fast = sys.argv[1], sys.argv[2] == "fast"
    atexit.register(lambda: open(mark, "w").write(f"atexit ran, gc {gc.get_threshold()[0]}"))
    if not fast:  # the normal exit, for comparison: a tracer makes ledger keep it
        sys.settrace(lambda *a: None)
    import ledger.cli.process as pe
    seen = pe.ends_process
    pe.ends_process = lambda: print(f"ends_process={seen()}", file=sys.stderr) or seen()
    sys.argv = ["ledger", *sys.argv[3:]]
    runpy.run_module("ledger.cli", run_name="__main__", alter_sys=True)
    """)


def _run(tmp_path: Path, fast: bool, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    mark = tmp_path / f"mark-{fast}"
    done = subprocess.run([sys.executable, "-c", RUN_AS_PROGRAM, str(mark),
                           "fast" if fast else "normal", *args],
                          capture_output=True, timeout=120, check=False)
    return done, mark.read_text() if mark.exists() else ""


def test_the_fast_exit_gives_what_the_normal_exit_gives(tmp_path: Path):
    empty = tmp_path / "empty-ledger"
    for args in (["--help"], ["report", "--help"], ["--ledger", str(empty), "report"],
                 ["report", "--no-such-option"], ["--ledger", str(empty), "doctor"]):
        fast, fast_mark = _run(tmp_path, True, *args)
        normal, normal_mark = _run(tmp_path, False, *args)
        assert b"ends_process=True" in fast.stderr and b"ends_process=False" in normal.stderr
        assert fast.returncode == normal.returncode, args
        assert fast.stdout == normal.stdout, args
        assert fast.stderr.replace(b"ends_process=True", b"") == \
            normal.stderr.replace(b"ends_process=False", b""), args
        assert fast_mark == "atexit ran, gc 50000", args  # ledger/cli/process.py: start
        assert normal_mark == "atexit ran, gc 700", args
    assert len(fast.stdout) + len(fast.stderr) > 0


def test_in_process_callers_profilers_and_threads_keep_the_normal_exit(monkeypatch):
    import threading

    from ledger.cli import process

    assert not process.ends_process()  # pytest is the program here
    main = sys.modules["__main__"]
    saved = getattr(main, "__file__", None)
    main.__file__ = "/usr/bin/ledger"
    try:
        with monkeypatch.context() as alone:  # (pytest-xdist's worker has threads of its own)
            alone.setattr(threading, "active_count", lambda: 1)
            if sys.gettrace() is None and sys.getprofile() is None:
                assert process.ends_process()
        sys.setprofile(lambda *a: None)
        try:
            assert not process.ends_process()
        finally:
            sys.setprofile(None)
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait)
        worker.start()
        try:
            assert not process.ends_process()
        finally:
            stop.set()
            worker.join()
    finally:
        if saved is None:
            del main.__file__
        else:
            main.__file__ = saved
    assert process.exit_now("a message") is None  # Python prints it: normal exit
