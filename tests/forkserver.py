"""The tests' fork server: imports and warms the CLI once, then forks a fresh `ledger` per request.

Starting Python, importing polars, typer, rich and the importers and building typer's command
tree cost about 0.6 s of CPU per command, more than most commands' own work, and the suite runs
about a thousand commands (the crash test alone kills 50 imports). One server per pytest process
(started by tests/cliserver.py) pays that once and forks a child per request. The child is a new
process as `subprocess.run` would start one: its own cwd, environment, stdin from /dev/null,
stdout and stderr written to the named files, the exit code of `ledger.cli.main.main` (a
traceback and 1 for an uncaught exception, as Python prints it). Only the start-up is shared.

A request is one JSON line on stdin: `{"args", "cwd", "env", "stdout", "stderr"}`. The server
answers `pid N` once the child runs and `exit N CODE CPU` once it has reaped it (CPU: the child's
user + system seconds, which the tests count). stderr may be a FIFO: the crash test reads the
child's `step` lines from it and kills the child (SIGKILL) at a step it chose.

The warm-up (`warm`) loads what every command would load for itself, and nothing else:
1. every module of `ledger`, `importers` and `rules`;
2. typer's click command for the app, built once (typer rebuilds it from the signatures at each
   start: 0.12 s; a child gets its own copy of it, as a new process gets its own);
3. the modules commands import lazily (numpy through polars literals, pydantic through typer,
   rich's renderers, babel, filelock), learned by running `ledger demo` and `ledger --help` in
   forked children that list what they imported.
No polars query runs in the server itself, so it has only the threads `import polars` starts
(jemalloc's and a spill-file cleaner, which handle fork) and no worker pool a child would lack:
`serve` refuses to answer if a warm-up step started another thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path


def _exit_code(code: object) -> int:
    """The status Python exits with for `SystemExit(code)` (a message goes to stderr)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1


def child(request: dict) -> None:
    """Run `ledger ARGS` as the request says, in this (forked) process, then exit with its code."""
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
    if "modules" in request:  # the warm-up's question: what did this command import?
        Path(request["modules"]).write_text("\n".join(sorted(sys.modules)), "utf-8")
    os._exit(code)


def warm() -> int:
    """Load once what each command would load for itself (see the module's docstring); the
    number of threads `import polars` left running."""
    import importlib
    import pkgutil
    import warnings

    # numpy's BLAS starts its threads when loaded; no command here does linear algebra
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import polars  # noqa: F401

        started = threads()
        import importers
        import ledger
        import ledger.cli.main
        import rules

        for package in (ledger, importers, rules):
            for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
                if not _runs_on_import(module.name):
                    with contextlib.suppress(Exception):
                        importlib.import_module(module.name)
        _build_command_once(ledger.cli.main)
        for name in _learned():
            if name not in sys.modules and not _runs_on_import(name):
                with contextlib.suppress(BaseException):
                    importlib.import_module(name)
    return started


def _runs_on_import(name: str) -> bool:
    """`__main__` modules (a package's `python -m` entry) would run the CLI in the server;
    `__mp_main__` and the like are the interpreter's, not importable."""
    return name.startswith("__") or "__main__" in name.split(".")


def _build_command_once(cli) -> None:
    """Have typer reuse one click command for the app instead of building it per command."""
    import typer.main

    app = getattr(cli, "app", None)
    if app is None:
        return
    built = typer.main.get_command(app)
    build = typer.main.get_command
    typer.main.get_command = lambda typer_app: built if typer_app is app else build(typer_app)


def _learned() -> set[str]:
    """The modules `ledger demo` and `ledger --help` import, each run in a forked child."""
    import tempfile

    names: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="ledger-warm-") as tmp:
        listing = Path(tmp) / "modules"
        env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DIR", "LEDGER_DEBUG")}
        env.update({"XDG_DATA_HOME": tmp, "COLUMNS": "100", "NO_COLOR": "1"})
        for args in (["demo"], ["--help"]):
            pid = os.fork()
            if pid == 0:
                child({"args": args, "cwd": tmp, "env": env, "stdout": os.devnull,
                       "stderr": os.devnull, "modules": str(listing)})
            os.waitpid(pid, 0)
            with contextlib.suppress(OSError):
                names.update(listing.read_text("utf-8").split())
    return names


def threads() -> int:
    """Threads of this process (Linux); 1 when /proc cannot tell."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def answer(serve_one: Callable[[dict], None]) -> None:
    """Say `ready`, then fork `serve_one(request)` per JSON line of stdin: `pid N`, then
    `exit N CODE CPU` with the child's CPU seconds (user + system)."""
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            serve_one(request)
        print(f"pid {pid}", flush=True)
        _, status, usage = os.wait4(pid, 0)
        cpu = usage.ru_utime + usage.ru_stime
        print(f"exit {pid} {os.waitstatus_to_exitcode(status)} {cpu:.4f}", flush=True)


def serve() -> None:
    started = warm()
    if threads() != started:  # a forked child would lack the new threads (and their locks)
        print(f"not fork-safe: {threads()} threads after the warm-up, {started} after "
              "`import polars`", flush=True)
        return
    answer(child)


if __name__ == "__main__":
    serve()
