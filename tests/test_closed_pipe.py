"""A closed stdout (`ledger report | head -1`) ends every command quietly with one status,
CLOSED_PIPE_STATUS (ledger/cli/process.py), whether the typer-free path (ledger/cli/fast.py),
the app or click's own help met it; a command that failed keeps its status and message. Real
processes with a real pipe: the forked test server's streams are not the process's own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ledger.cli.process import CLOSED_PIPE_STATUS
from tests.test_cli import COMMAND, import_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return import_demo(tmp_path_factory.mktemp("pipe"))


def _closed(args: list[str], cwd: Path, *, stderr_too: bool = False,
            read_first_line: bool = False) -> tuple[int, bytes]:
    """`ledger ARGS` whose stdout's reader has gone before (or after one line of) its output:
    the exit status and what it said on stderr."""
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DIR", "LEDGER_DEBUG")}
    env.update({"COLUMNS": "80", "NO_COLOR": "1", "XDG_DATA_HOME": str(cwd / ".xdg-data")})
    process = subprocess.Popen([*COMMAND, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT if stderr_too else subprocess.PIPE)
    if read_first_line:
        assert process.stdout.readline()
    process.stdout.close()
    said = b"" if stderr_too else process.stderr.read()
    return process.wait(timeout=120), said


@pytest.mark.parametrize("args", [
    ["report"],                                              # typer-free (ledger/cli/fast.py)
    ["transactions", "--limit", "0"],
    ["report", "--format", "json"],
    ["report", "--month", "2024-05", "--month", "2024-06"],  # the app (an option twice)
    ["imports"],
    ["reconcile", "--as-of", "2024-07-01"],
    ["--help"],                                              # click's own output
    ["export", "--format", "csv"],
], ids=" ".join)
def test_a_closed_stdout_ends_quietly_with_one_status(demo, args):
    assert _closed(["--ledger", demo.name, *args], demo.parent) == (CLOSED_PIPE_STATUS, b"")


def test_a_reader_that_stops_after_a_line_and_one_that_takes_stderr_too(demo):
    """`ledger report | head -1` and `ledger report 2>&1 | head -1`."""
    args = ["--ledger", demo.name, "report"]
    assert _closed(args, demo.parent, read_first_line=True) == (CLOSED_PIPE_STATUS, b"")
    assert _closed(args, demo.parent, stderr_too=True)[0] == CLOSED_PIPE_STATUS


def test_a_failing_command_keeps_its_status_and_message(demo):
    code, said = _closed(["--ledger", demo.name, "report", "--month", "2024-13"], demo.parent)
    assert code == 2
    assert said == b"error: --month '2024-13' is not YYYY-MM\n  hint: e.g. --month 2024-06\n"
    assert _closed(["--ledger", "nowhere", "report"], demo.parent, stderr_too=True)[0] == 2


def test_an_internal_error_is_printed_as_every_error_is(monkeypatch, capsys):
    """A bug is said plainly, message then hint, through the one error printer (no
    traceback), with exit 1."""
    import sys

    import pytest

    from ledger.cli import main

    def broken(args):
        raise KeyError("x")

    monkeypatch.setattr(main, "_run", broken)
    monkeypatch.setattr(sys, "argv", ["ledger", "report"])
    monkeypatch.delenv("LEDGER_DEBUG", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as ended:
        main._main()
    assert ended.value.code == 1
    assert capsys.readouterr().err == (
        "error: internal error: KeyError: 'x'\n"
        "  hint: rerun with --debug for the traceback and please report it\n")
