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


SHOW_ALLOCATOR = textwrap.dedent("""
    import atexit, os, runpy, sys
    atexit.register(lambda: print(f"polars={'polars' in sys.modules} "
                                  f"conf={os.environ.get('_RJEM_MALLOC_CONF', '')}"))
    sys.argv = ["ledger", *sys.argv[1:]]
    runpy.run_module("ledger.cli", run_name="__main__", alter_sys=True)
    """)


def _allocator(tmp_path: Path, *args: str, own: str | None = None) -> str:
    """`_RJEM_MALLOC_CONF` as the `ledger` process ends (polars loaded: what its jemalloc
    read), run as the program with `own` as the user's value."""
    import os

    from ledger.cli.process import ALLOCATOR_ENV

    env = {k: v for k, v in os.environ.items() if k != ALLOCATOR_ENV}
    if own is not None:
        env[ALLOCATOR_ENV] = own
    done = subprocess.run([sys.executable, "-c", SHOW_ALLOCATOR, "--ledger",
                           str(tmp_path / "ledger"), *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    shown = done.stdout.splitlines()[-1]
    assert shown.startswith("polars=True conf="), shown  # jemalloc was configured from it
    return shown.removeprefix("polars=True conf=")


def test_an_import_runs_with_the_import_allocator_and_other_commands_do_not(tmp_path: Path):
    from ledger.cli.process import IMPORT_ALLOCATOR

    export = Path(__file__).parent / "data" / "paypal" / "activity-en.csv"
    conf = _allocator(tmp_path, "import", str(export), "--format", "json")
    assert conf.endswith("," + IMPORT_ALLOCATOR)  # after polars' own default: ours wins
    assert IMPORT_ALLOCATOR not in _allocator(tmp_path, "report", "--format", "json")
    assert IMPORT_ALLOCATOR not in _allocator(tmp_path, "transactions", "--format", "json")


def test_a_users_own_allocator_setting_is_kept_after_ours(tmp_path: Path):
    from ledger.cli.process import IMPORT_ALLOCATOR

    export = Path(__file__).parent / "data" / "paypal" / "activity-en.csv"
    conf = _allocator(tmp_path, "import", str(export), own="narenas:3,dirty_decay_ms:250")
    assert conf.endswith(f",{IMPORT_ALLOCATOR},narenas:3,dirty_decay_ms:250")  # theirs last
    assert _allocator(tmp_path, "report", own="narenas:3").endswith(",narenas:3")


def test_the_allocator_is_left_alone_once_polars_is_loaded(monkeypatch):
    import os

    from ledger.cli import process

    monkeypatch.delenv(process.ALLOCATOR_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "polars", sys.modules.get("polars", object()))
    assert not process.tune_allocator("import")  # jemalloc has read its options already
    assert process.ALLOCATOR_ENV not in os.environ
    monkeypatch.delitem(sys.modules, "polars")
    assert not process.tune_allocator("report")
    assert process.ALLOCATOR_ENV not in os.environ
    assert process.tune_allocator("import")
    assert os.environ[process.ALLOCATOR_ENV] == process.IMPORT_ALLOCATOR
