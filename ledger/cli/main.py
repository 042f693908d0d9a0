"""The `ledger` command's entry point: runs the app (ledger/cli/commands.py) and turns
LedgerErrors into clean messages and exit codes.

A plain `ledger report` line runs without typer (ledger/cli/fast.py: ~8 ms of the demo
report); every other line, and every error of the options, goes through the app. The app's
names (`app`, its commands) are read from here as before (`from ledger.cli.main import app`).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from ledger.core.errors import LedgerError


def main() -> None:
    """Entry point: runs the app and turns LedgerErrors into clean messages and exit codes.
    As the process's program, collects garbage less often and ends without Python's teardown
    (ledger/cli/process.py); an import also tunes polars' allocator there."""
    from ledger.cli.fast import command_name
    from ledger.cli.process import (
        ends_process,
        exit_now,
        flushed,
        is_program,
        start,
        tune_allocator,
    )

    if ends_process():
        start()
    if is_program():
        tune_allocator(command_name(sys.argv[1:]))
    try:
        _main()
    except SystemExit as exc:
        code = flushed(exc.code)  # a closed stdout: ledger/cli/process.py CLOSED_PIPE_STATUS
        if ends_process():
            exit_now(code)
        raise SystemExit(code) from None
    code = flushed(None)
    if ends_process():
        exit_now(code)
    if code:
        sys.exit(code)


def _main() -> None:
    from ledger.cli.process import closed_pipe, is_closed_pipe

    debug = "--debug" in sys.argv[1:]
    # a kill (a timeout, `kill PID`) unwinds like an error: cleanup (staged copies, rollback) runs
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        try:
            _run(sys.argv[1:])
        except OSError as exc:  # the file system said no (read-only, full): not a bug
            if is_closed_pipe(exc):  # the reader of stdout has gone: not an error either
                closed_pipe()
            if debug or os.environ.get("LEDGER_DEBUG") or exc.errno is None:
                raise
            from ledger.core.errors import os_error

            raise os_error(exc) from None
    except LedgerError as exc:
        if debug:
            raise
        _error(f"{exc.where() or 'error: '}{exc.message}", exc.hint)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, never dump a traceback on the user
        if debug or os.environ.get("LEDGER_DEBUG"):
            raise
        _error(f"error: internal error: {type(exc).__name__}: {exc}",
               "rerun with --debug for the traceback and please report it")
        sys.exit(1)


def _error(message: str, hint: str | None) -> None:
    """An error and its hint on stderr as every error is printed (ledger.render.status
    `error_text`: the hint wrapped at the width, 80 when piped)."""
    from ledger.cli.common import width
    from ledger.render.status import error_text

    _say(error_text(message, hint, width(stderr=True, piped=80)))


def _say(text: str) -> None:
    """An error on stderr; when stderr is a closed pipe too (`ledger ... 2>&1 | head -1`),
    nothing, and the error's status stands (ledger/cli/process.py `flushed`)."""
    from ledger.cli.process import is_closed_pipe

    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except OSError as exc:
        if not is_closed_pipe(exc):
            raise


def _run(args: list[str]) -> None:
    """A plain report without typer (ledger/cli/fast.py), anything else through the app with
    only the command the arguments name built (ledger/cli/lazy.py)."""
    from ledger.cli import fast

    if fast.run(args):  # pragma: no cover - it ends with SystemExit
        return
    from ledger.cli.commands import app
    from ledger.cli.lazy import for_args
    from ledger.cli.process import settle

    settle()  # typer and the app live as long as the process: out of the collector's sight
    for_args(app, args)()


def __getattr__(name: str) -> Any:
    """The app's names (`app`, `report`...), as when it was defined here."""
    if name.startswith("__"):
        raise AttributeError(name)
    from ledger.cli import commands

    return getattr(commands, name)


if __name__ == "__main__":
    main()
