"""`ledger` as the process: its garbage collector, its allocator for an import, and its exit
without Python's teardown.

At start (`start`), what is loaded by then (the interpreter, typer, the CLI: objects that
live as long as the process) is moved out of the collector's sight
(`gc.freeze`), and young objects are collected every 50,000 allocations instead of 700 (a
few MB between collections): an everyday command on a small ledger spent ~0.016 s of CPU in
~90 collections, mostly going over the modules it imports as it goes (long-lived objects)
again and again; now ~0.004 s. Garbage is still collected, only less often.
A command then freezes again once it has loaded what its work needs (`settle`: polars, ~100k
objects, and the library, loaded after start): the demo report spent ~0.017 s more CPU with
them in the collector's sight.

When a command is done, a normal interpreter exit frees every module and object one by one
(polars, typer, babel, ours: ~40k objects, garbage-collected twice): ~0.04 s of CPU, a sixth
of an everyday command on a small ledger, for memory the kernel takes back anyway. So when
`ledger` is the process (its console script or `python -m ledger.cli`), it ends like a
normal exit in everything that can be seen: non-daemon threads finished first, the atexit
handlers run (temporary folders, logging), stdout and stderr flushed, the same exit status;
and then `os._exit`, skipping only the freeing. Called in-process (tests, scripts), under a
profiler or tracer, with another thread still running, or when a flush fails, it falls back
to the normal exit: Python then reports and exits exactly as it would have.

A closed stdout (`ledger report | head -1`) ends every command quietly with
CLOSED_PIPE_STATUS (`closed_pipe`; `flushed`, before either exit, for what click's handler
met and what was still buffered): it says why that is 0.

An import (`tune_allocator`) asks polars' allocator (jemalloc, configured once, from
`_RJEM_MALLOC_CONF`, as polars loads) to give freed pages back at once (IMPORT_ALLOCATOR)
instead of keeping them for polars' half a second to a second and a half: an import makes and
drops whole columns, and pages kept that long added up to 30% to its peak. IMPORT_ALLOCATOR
has the figures, and why the other commands keep polars' default.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import NoReturn

ALLOCATOR_ENV = "_RJEM_MALLOC_CONF"
"""Where polars' jemalloc reads its options, once, as polars loads: polars/__init__.py writes
its own decay first and appends the value it finds here (polars issue 18088, PR 21829);
jemalloc takes the last of a repeated option."""

IMPORT_ALLOCATOR = "dirty_decay_ms:0,muzzy_decay_ms:-1"
"""jemalloc's options for `ledger import`: a freed page goes back to the kernel at once
instead of after polars' 0.5 s (then 1 s more as a "muzzy" page, still counted in RSS), so the
peak is the rows' own, the same in every run, whatever the machine's speed (a decay counted in
milliseconds keeps more pages the faster the import runs). On the 1M-row exports of `make
bench` (README, "Polars' allocator for imports": medians of 8-9 alternating runs, 2026-12-03, a
shared machine): peak PayPal 702 MiB (3.8x the file; default 702-924), Upwork 439 (3.4x;
439-556), Payoneer 569 (4.5x; 569-713), HDFC 484 (4.3x; 483-554). The price: pages are
faulted in again 2x as often, 0.06-0.46 s more CPU per import on a loaded machine (a bare
polars read pays it too: under one setting, the ratio to the floor fell for PayPal, Payoneer
and HDFC and rose for Upwork, 2.30x to 2.36x). Kept 20-100 ms (muzzy 0), neither the peak nor
the CPU moved clearly from the default's. Every other command keeps polars' default: a report
on a small ledger paid ~10% more system time under this, and `ledger batch` (thousands of
small reads in its Dask workers) 26% more CPU."""

TUNED_COMMANDS = frozenset({"import"})
"""The commands that run with IMPORT_ALLOCATOR."""


def is_program() -> bool:
    """Whether `ledger` is this process's program (its console script or `python -m
    ledger.cli`), not a library call inside another one."""
    program = getattr(sys.modules.get("__main__"), "__file__", None) or ""
    return os.path.basename(program) in ("ledger", "ledger.exe", "ledger-script.py") or \
        program.endswith(os.path.join("ledger", "cli", "__main__.py"))


def ends_process() -> bool:
    """Whether `ledger` is this process's program (not a library call inside another one)
    and nothing watches it that needs the normal teardown (a profiler, a coverage tracer)."""
    import threading

    return is_program() and sys.getprofile() is None and sys.gettrace() is None \
        and threading.active_count() == 1


def tune_allocator(command: str | None) -> bool:
    """Put IMPORT_ALLOCATOR in the environment when `command` is one of TUNED_COMMANDS and
    polars is not loaded yet (later, jemalloc has read its options: it would change nothing);
    a value the user set stays after ours, so theirs wins. Whether it did."""
    if command not in TUNED_COMMANDS or "polars" in sys.modules:
        return False
    own = os.environ.get(ALLOCATOR_ENV)
    os.environ[ALLOCATOR_ENV] = IMPORT_ALLOCATOR + (f",{own}" if own else "")
    return True


def settle(*modules: str) -> None:
    """Import `modules` (what a command's work needs: polars, ~100k objects, and the library)
    and, as the process's program, move everything loaded out of the collector's sight as
    `start` does, before the work: its collections then go over the objects the work makes
    instead of every module's again and again (the demo report: ~0.017 s of CPU less). As the
    program, no collection runs while they load: what modules make lives as long as the
    process, so collecting among it frees nothing (a 1M-row import ran two, ~5 ms)."""
    import gc
    import importlib

    program = ends_process()
    collecting = program and gc.isenabled()
    if collecting:
        gc.disable()
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        if collecting:
            gc.enable()
    if program:
        gc.freeze()


def start() -> None:
    """Collect garbage less often in this process (see the module docstring)."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 10, 10)


def exit_now(code: object) -> None:
    """End the process with `code` (SystemExit's: None, an int) as a normal exit would, less
    the teardown; return (for the caller to raise SystemExit) where that cannot be done."""
    import atexit

    if code is not None and not isinstance(code, int):
        return  # a message to print: Python's own exit does that
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # (a closed pipe was quieted by `flushed`) Python's exit reports it
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        os._exit(120)  # what Python's exit gives when flushing stdout fails
    os._exit((code or 0) & 0xFF)


CLOSED_PIPE_STATUS = 0
"""The status of a command that a closed stdout stopped (`ledger report | head -1`): 0, as
ripgrep ends; not git's and cat's 141 (killed by SIGPIPE), nor click's and Python's 1. The
reader chose to stop reading: that is no failure of the command, and no bad data. And whether
a write meets the closed pipe at all depends on whether the output outgrew the pipe's buffer
before the reader left, so any other status would fail `set -o pipefail` scripts by output
size and timing (`ledger transactions | head -2` ended 0, `ledger report | head -1` 1). A
command that ran to its end keeps its own status even if the last of its output, still
buffered, could not be delivered (`flushed`): `rates check` lacking a rate still ends 1."""


def is_closed_pipe(exc: BaseException) -> bool:
    """Whether `exc` is a write or flush meeting a pipe whose reader has gone (EPIPE)."""
    return isinstance(exc, OSError) and exc.errno == errno.EPIPE


def closed_pipe() -> NoReturn:
    """End a command a closed stdout stopped: quietly (no message: stderr may be the same
    pipe), with CLOSED_PIPE_STATUS."""
    _quiet(sys.stdout)
    sys.exit(CLOSED_PIPE_STATUS)


def flushed(code: object) -> object:
    """The status to end with, once stdout and stderr are flushed, for a command that ended
    with `code` (SystemExit's): CLOSED_PIPE_STATUS where click stopped it on a closed stdout
    (its handler wraps stdout in PacifyFlushWrapper and exits 1), else `code`. A stream whose
    last buffered output meets a closed pipe now is quieted, so no later flush (Python's exit
    included: "Exception ignored", status 120) reports it."""
    clicks = getattr(sys.modules.get("typer._click.utils"), "PacifyFlushWrapper", None)
    if clicks is not None and isinstance(sys.stdout, clicks):
        _quiet(sys.stdout)
        return CLOSED_PIPE_STATUS
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError as exc:
            if not is_closed_pipe(exc):
                raise
            _quiet(stream)
        except ValueError:  # a closed stream (an in-process caller's): nothing to flush
            pass
    return code


def _quiet(stream) -> None:
    """Point `stream`'s file descriptor at os.devnull: what it still buffers and every later
    write or flush go nowhere instead of failing on the closed pipe again. A stream with no
    descriptor (an in-process caller's) meets no pipe."""
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
