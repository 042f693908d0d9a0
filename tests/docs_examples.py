"""The examples in README.md and docs/*.md, run against the demo ledger: docs that cannot drift.

A fenced ```console block holds `$ ledger ...` lines, each followed by what it prints:

    ```console
    $ ledger report | head -16
    June 2024 · PKR (Rs)
    ...
    ```

Each command runs in this process (the real `ledger` entry point, no subprocess) against the
ledger `ledger demo --keep` makes, with COLUMNS=100 and no colour, in an empty working folder; a
`| filter` after it (head, grep, sed) runs in `sh` on what it printed, as in a terminal. What it
prints, stdout and stderr as a terminal shows them, must equal the lines shown. Normalised, and
only that: trailing spaces and blank lines at the end (Markdown keeps neither), the demo ledger's
folder (shown as the default `~/.local/share/freelance-ledger`) and the working folder (`.`).
A command that fails shows `[exit N]` as its last line.

A block that cannot be checked (it needs a file the demo does not have) says why on the line
before its fence: `<!-- unchecked: needs ... -->`. Fenced blocks must name their language, and
only ```console blocks may hold `$ ` prompts, so an output block cannot slip past unchecked.
The `ledger ...` lines of ```sh blocks and of unchecked blocks are not run, but each must name
only commands and options the CLI has.

    python -m tests.docs_examples           # check, print the differences (exit 1 if any)
    python -m tests.docs_examples --update  # rewrite every checked block from real output

`make docs` runs the second; tests/test_docs_examples.py the first.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = 100
SHOWN_LEDGER = "~/.local/share/freelance-ledger"
"""How the demo ledger's folder appears in the docs: where a user's ledger lives by default."""
FENCE = re.compile(r"^(`{3,})(\S*)\s*$")
UNCHECKED = re.compile(r"^<!--\s*unchecked:\s*(.*?)\s*-->\s*$")
EXIT = re.compile(r"^\[exit (\d+)\]$")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass
class Command:
    line: str  # the text after "$ "
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    path: Path
    start: int  # index of the opening fence line
    end: int  # index of the closing fence line
    lang: str
    body: list[str]
    unchecked: str | None  # the reason, when marked

    @property
    def where(self) -> str:
        shown = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{shown}:{self.start + 1}"

    def commands(self) -> list[Command]:
        found: list[Command] = []
        for line in self.body:
            if line.startswith("$ "):
                found.append(Command(line[2:]))
            elif found:
                found[-1].expected.append(line)
        return found


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, with the unchecked marker on the line before it."""
    lines = path.read_text("utf-8").splitlines()
    found = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, lang = match.groups()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), None)
        if end is None:
            raise ValueError(f"{path}:{i + 1}: a fenced block is not closed")
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = UNCHECKED.match(before)
        found.append(Block(path, i, end, lang, lines[i + 1:end],
                           marker.group(1) if marker else None))
        i = end + 1
    return found


def problems(block: Block) -> list[str]:
    """Why a block breaks the convention (empty when it keeps it)."""
    out = []
    if not block.lang:
        out.append(f"{block.where}: a fenced block must name its language (console for "
                   "commands with their output, sh for commands alone, text, toml, json...)")
    if block.lang != "console" and any(line.startswith("$ ") for line in block.body):
        out.append(f"{block.where}: `$ ` prompts belong in a ```console block")
    if block.lang == "console":
        if block.unchecked == "":
            out.append(f"{block.where}: say why it is unchecked: <!-- unchecked: REASON -->")
        if not block.body or not block.body[0].startswith("$ "):
            out.append(f"{block.where}: a console block starts with a `$ ` command")
        if block.unchecked is None:
            for command in block.commands():
                words = shlex.split(split_pipe(command.line)[0])
                if words[:1] != ["ledger"]:
                    out.append(f"{block.where}: only `ledger` commands can be checked: "
                               f"{command.line!r} (or mark the block unchecked, with why)")
    if block.lang in ("sh", "console"):
        for line in block.body:
            line = line.removeprefix("$ ")
            if line.startswith("ledger "):
                out += [f"{block.where}: `{line.strip()}`: {word}" for word in unknown(line)]
    return out


def unknown(line: str) -> list[str]:
    """The subcommands and options of a `ledger ...` line that the CLI does not have, so even
    the examples that are not run name only what exists."""
    from ledger.cli.main import app
    from tests.inprocess import click_command

    words = shlex.split(split_pipe(line.rstrip(" \\"))[0], comments=True)
    words = words[1:words.index(">")] if ">" in words else words[1:]
    command = click_command(app)  # typer's own click: checked by shape, not class
    path = "ledger"
    found = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("-") and word != "-":
            name = word.split("=")[0]
            param = next((p for p in command.params if p.param_type_name == "option"
                          and name in (*p.opts, *p.secondary_opts)), None)
            if param is None and name not in ("--help", "-h"):
                found.append(f"`{path}` has no option {name}")
            skip = param is not None and not param.is_flag and "=" not in word
        elif hasattr(command, "commands"):
            if word not in command.commands:
                found.append(f"`{path}` has no command {word!r}")
                break
            command = command.commands[word]
            path += f" {word}"
    return found


def split_pipe(line: str) -> tuple[str, str | None]:
    """The `ledger ...` part of a command line and the shell filter after its first unquoted `|`."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "|":
            return line[:i].rstrip(), line[i + 1:].strip()
    return line, None


@contextlib.contextmanager
def _environment(env: dict[str, str], cwd: Path) -> Iterator[None]:
    saved_env, saved_cwd, saved_argv = dict(os.environ), Path.cwd(), sys.argv
    saved_term = signal.getsignal(signal.SIGTERM)  # ledger's main() sets its own
    os.environ.update(env)
    for name in ("LEDGER_DEBUG", "FORCE_COLOR", "CLICOLOR_FORCE"):
        os.environ.pop(name, None)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv = saved_argv
        signal.signal(signal.SIGTERM, saved_term)


def run_ledger(args: list[str], ledger_dir: Path, cwd: Path) -> tuple[str, int]:
    """`ledger ARGS` through its real entry point in this process: what a terminal would show
    (stdout and stderr in the order written) and the exit status."""
    from ledger.cli.main import main

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=True)
    env = {"LEDGER_DIR": str(ledger_dir), "COLUMNS": str(COLUMNS), "NO_COLOR": "1",
           "TERM": "dumb", "XDG_DATA_HOME": str(cwd / ".xdg-data")}
    code = 0
    with _environment(env, cwd), contextlib.redirect_stdout(stream), \
            contextlib.redirect_stderr(stream):
        sys.argv = ["ledger", *args]
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    stream.flush()
    return raw.getvalue().decode("utf-8"), code


def normalise(text: str, ledger_dir: Path, cwd: Path) -> list[str]:
    """Only what differs from one run to the next: the folders, trailing spaces and blank lines."""
    for folder, shown in ((ledger_dir, SHOWN_LEDGER), (cwd, ".")):
        for spelling in {str(folder), str(folder.resolve())}:
            text = text.replace(spelling, shown)
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


class Runner:
    """Runs the documents' commands against one demo ledger, built once."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.ledger_dir = workdir / "demo-ledger"
        self.cwd = workdir / "cwd"
        self.cwd.mkdir(parents=True, exist_ok=True)
        output, code = run_ledger(["demo", "--keep", str(self.ledger_dir)], self.ledger_dir,
                                  self.cwd)
        if code != 0:
            raise RuntimeError(f"`ledger demo --keep` failed:\n{output}")

    def output(self, line: str) -> list[str]:
        """What `$ line` shows, normalised."""
        command, pipe = split_pipe(line)
        text, code = run_ledger(shlex.split(command)[1:], self.ledger_dir, self.cwd)
        if pipe is not None:
            text = subprocess.run(["sh", "-c", pipe], input=text, capture_output=True,
                                  text=True, encoding="utf-8", cwd=self.cwd, check=True,
                                  env={**os.environ, "LC_ALL": "C.UTF-8"}).stdout
        lines = normalise(text, self.ledger_dir, self.cwd)
        return [*lines, f"[exit {code}]"] if code else lines


def check(block: Block, runner: Runner) -> list[str]:
    """A unified diff per command whose output differs from the block (empty when all agree)."""
    import difflib

    diffs = []
    for command in block.commands():
        actual = runner.output(command.line)
        expected = [line.rstrip() for line in command.expected]
        while expected and not expected[-1]:
            expected.pop()
        if actual != expected:
            diffs.append(f"{block.where}: $ {command.line}\n" + "\n".join(difflib.unified_diff(
                expected, actual, "shown in the docs", "printed", lineterm="")))
    return diffs


def rewrite(path: Path, runner: Runner, refused: list[str] | None = None) -> int:
    """Rewrite `path`'s checked console blocks from real output; the number of blocks changed.

    A command that now fails (`[exit N]`) where the docs showed it succeed is not written: that
    is a broken command or demo, not new output. It is added to `refused` instead."""
    lines = path.read_text("utf-8").splitlines()
    changed = 0
    for block in reversed(blocks(path)):  # from the end, so earlier line numbers stay valid
        if block.lang != "console" or block.unchecked is not None:
            continue
        body = []
        for command in block.commands():
            output = runner.output(command.line)
            shown = [line for line in command.expected if line.strip()]
            if output and EXIT.match(output[-1]) and not (shown and EXIT.match(shown[-1])):
                if refused is not None:
                    refused.append(f"{block.where}: $ {command.line}\n" + "\n".join(output))
                body += [f"$ {command.line}", *command.expected]
                continue
            body += [f"$ {command.line}", *output]
        if body != block.body:
            lines[block.start + 1:block.end] = body
            changed += 1
    if changed:
        path.write_text("\n".join(lines) + "\n", "utf-8")
    return changed


def checked_blocks() -> list[Block]:
    return [b for p in documents() for b in blocks(p)
            if b.lang == "console" and b.unchecked is None]


def main(argv: list[str]) -> int:
    update = "--update" in argv
    broken = [msg for p in documents() for b in blocks(p) for msg in problems(b)]
    if broken:
        print("\n".join(broken), file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="ledger-docs-") as tmp:
        runner = Runner(Path(tmp))
        if update:
            refused: list[str] = []
            for path in documents():
                n = rewrite(path, runner, refused)
                print(f"{path.relative_to(ROOT)}: {n} block(s) rewritten" if n else
                      f"{path.relative_to(ROOT)}: up to date")
            if refused:
                print("\n\nThese commands now fail; their blocks were left as they were:\n\n"
                      + "\n\n".join(refused), file=sys.stderr)
            return 1 if refused else 0
        diffs = [d for b in checked_blocks() for d in check(b, runner)]
    print("\n\n".join(diffs) if diffs else f"{len(checked_blocks())} example block(s) agree")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
