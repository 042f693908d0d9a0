"""Every command's --help at 80 columns (issue 92): no line wider than 80, each example a
command that can be copied whole (on one line, or continued with a shell `\\`), TOML shown
line by line, argument names as click shows them (`PATHS...`, `IMPORT_ID`), `-h` as
`--help`, `ledger --version`, and error hints wrapped between words at the width."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import COMMAND, run

WIDTH = 80


def _paths() -> list[tuple[str, ...]]:
    """The words of every command and group of the app: (), ("import",), ("rates", "show")..."""
    from typer.main import get_command

    from ledger.cli.main import app

    out: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        out.append(path)
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            walk(sub, (*path, name))

    walk(get_command(app), ())
    return out


PATHS = _paths()


def _help(tmp_path: Path, *words: str, columns: str = str(WIDTH), flag: str = "--help") -> str:
    result = run(*words, flag, cwd=tmp_path, env={"COLUMNS": columns})
    assert result.returncode == 0 and not result.stderr, (words, result.stderr)
    return result.stdout


def _broken_examples(text: str) -> list[str]:
    """Lines of an Examples block that are neither a whole `ledger` command nor the rest of
    one continued with `\\`: what wrapping in the middle of a command leaves."""
    broken: list[str] = []
    block: int | None = None  # the indentation of "Examples:" while in its block
    continued = False
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if line.strip() == "Examples:":
            block, continued = indent, False
            continue
        if block is None or not line.strip():
            continue
        if indent <= block:  # the block has ended (prose or the options follow)
            block = None
            continue
        if not continued and not line.lstrip().startswith("ledger "):
            broken.append(line)
        continued = line.rstrip().endswith("\\")
    return broken


def test_the_app_has_every_command_walked():
    assert {("import",), ("reconcile", "link"), ("payouts", "record"), ("rates", "show"),
            ("quote",), ("batch",), ("demo",), ("benchmarks",)} <= set(PATHS)
    assert len(PATHS) > 30


@pytest.mark.parametrize("words", PATHS, ids=[" ".join(p) or "ledger" for p in PATHS])
def test_help_fits_80_columns_with_whole_examples(tmp_path, words):
    for columns in (str(WIDTH), ""):  # $COLUMNS=80, and none (a pipe: click's 80)
        text = _help(tmp_path, *words, columns=columns)
        wide = [line for line in text.splitlines() if len(line) > WIDTH]
        assert not wide, (words, wide)
        assert not _broken_examples(text), (words, _broken_examples(text))
        # TOML examples line by line: no `[[table]]` with keys after it, no two keys in a line
        assert not re.search(r"\]\][ \t]+\w+ =|= \"[^\"\n]*\"[ \t]+\w+ = ", text), words
        usage = text.splitlines()[0]
        assert usage.startswith("Usage: ledger") and "{" not in usage, usage
        assert "list[" not in text and "<list" not in text, words
        assert _help(tmp_path, *words, columns=columns, flag="-h") == text  # -h is --help


def test_the_examples_that_broke_are_whole(tmp_path):
    """The commands of issue 92: benchmarks' and fees' TOML was one line, and the examples of
    reconcile, quote, batch, demo and payouts record wrapped in the middle."""
    benchmarks = _help(tmp_path, "benchmarks")
    assert '\n    [[benchmarks]]\n    name = "living_wage_lahore"\n    amount = "60000"\n' in \
        benchmarks
    assert '\n    [[fees.upwork.service_fee]]\n    id = "upwork.service_fee.2025-05-01"\n' in \
        _help(tmp_path, "fees")
    reconcile = _help(tmp_path, "reconcile")
    assert "    ledger reconcile --from 2024-01-01 --to 2024-06-30 \\\n" \
           "        --format csv -o chains.csv\n" in reconcile
    assert "    ledger demo --keep ./demo && ledger --ledger ./demo report --year 2024\n" in \
        _help(tmp_path, "demo")
    usage = _help(tmp_path, "import").splitlines()[0]
    assert usage == "Usage: ledger import [OPTIONS] PATHS..."
    assert "\n  PATHS... <path>  Export files to import.  [required]\n" in \
        _help(tmp_path, "import")
    assert _help(tmp_path, "undo").splitlines()[0] == "Usage: ledger undo [OPTIONS] IMPORT_ID"
    assert _help(tmp_path, "quote").splitlines()[0] == \
        "Usage: ledger quote [OPTIONS] [AMOUNT] [CURRENCY]"
    assert re.search(r"\n  --kind <str> +Only these kinds \(repeatable\)",
                     _help(tmp_path, "transactions"))


@pytest.mark.parametrize("words", [("benchmarks",), ("quote",), ("reconcile",)])
def test_help_on_a_terminal_80_wide(words):
    """On screen (a terminal 80 columns wide, no $COLUMNS) as piped."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, WIDTH, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["NO_COLOR"] = "1"
    process = subprocess.Popen([*COMMAND, *words, "--help"], stdout=follower, stderr=follower,
                               stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0
    text = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert not _broken_examples(text), _broken_examples(text)
    assert "[[benchmarks]]\n" in text if words == ("benchmarks",) else True


def test_version_names_the_distribution_and_the_schema(tmp_path):
    from importlib.metadata import version

    from ledger.core.schema import VERSION

    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0 and not result.stderr
    assert result.stdout == f"ledger (freelance-ledger) {version('freelance-ledger')}, " \
        f"ledger schema {VERSION}\n"
    script = ("import sys, contextlib, io\nfrom ledger.cli.main import main\n"
              "sys.argv = ['ledger', '--version']\n"
              "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
              "    main()\n"
              "print(json.dumps(sorted(m for m in ('polars', 'numpy') if m in sys.modules)))\n")
    loaded = subprocess.run([sys.executable, "-c", "import json\n" + script],
                            capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(loaded.stdout.splitlines()[-1]) == []  # --version loads no polars


def test_hints_wrap_between_words(tmp_path):
    """Issue 92: `ledger import notes.txt` printed a ~600-character hint line; it wraps at the
    width (80 piped), each next line under the hint's first word, no word broken."""
    (tmp_path / "notes.txt").write_text("hello world\n")
    whole = run("--ledger", "led", "import", "notes.txt", cwd=tmp_path, env={"COLUMNS": "1000"})
    message, hint = whole.stderr.splitlines()
    assert whole.returncode == 1 and hint.startswith("  hint: ") and len(hint) > 400
    for env, width in (({"COLUMNS": "80"}, 80), ({"COLUMNS": ""}, 80),
                       ({"COLUMNS": "", "LEDGER_WIDTH": "60"}, 60)):
        result = run("--ledger", "led", "import", "notes.txt", cwd=tmp_path, env=env)
        lines = result.stderr.splitlines()
        assert result.returncode == 1 and lines[0] == message
        assert lines[1].startswith("  hint: ") and len(lines) > 3
        assert all(len(line) <= width for line in lines[1:]), (width, lines)
        assert all(line.startswith(" " * 8) and line[8] != " " for line in lines[2:])
        assert " ".join(line.strip() for line in lines[1:]) == hint.strip()
