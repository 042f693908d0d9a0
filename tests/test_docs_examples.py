"""README's and docs/*.md's examples print what they show, on the demo ledger
(tests/docs_examples.py; `make docs` rewrites them after a deliberate change)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import docs_examples as docs


def test_every_console_example_prints_what_it_shows(tmp_path):
    """The one test that builds the demo ledger (once, with `ledger demo --keep`)."""
    checked = docs.checked_blocks()
    shown = {b.where.split(":")[0] for b in checked}
    assert {"README.md", "docs/export.md"} <= shown
    assert sum(len(b.commands()) for b in checked) >= 5
    runner = docs.Runner(tmp_path)
    diffs = [d for b in checked for d in docs.check(b, runner)]
    assert not diffs, ("an example no longer prints what the docs show; after a deliberate "
                       "change run `make docs` and read the diff:\n\n" + "\n\n".join(diffs))


def test_every_fenced_block_keeps_the_convention():
    assert [m for p in docs.documents() for b in docs.blocks(p) for m in docs.problems(b)] == []


class Canned:
    """A runner that prints set text: the checker's comparison without running `ledger`."""

    def __init__(self, printed: dict[str, list[str]]) -> None:
        self.printed = printed

    def output(self, line: str) -> list[str]:
        return self.printed[line]


DOC = """# Example

```console
$ ledger report | head -2
June 2024 · PKR
  Net  168,135.68

$ ledger imports
nothing yet
```

<!-- unchecked: needs a file the demo lacks -->
```console
$ ledger import statement.csv
whatever it said once
```
"""


def test_a_changed_figure_is_caught_and_the_update_writes_what_was_printed(tmp_path):
    doc = tmp_path / "page.markdown"
    doc.write_text(DOC, "utf-8")
    printed = {"ledger report | head -2": ["June 2024 · PKR", "  Net  168,135.69"],
               "ledger imports": ["nothing yet"]}
    block, unchecked = docs.blocks(doc)
    assert (block.unchecked, unchecked.unchecked) == (None, "needs a file the demo lacks")
    [diff] = docs.check(block, Canned(printed))
    assert diff.startswith(f"{doc}:3: $ ledger report | head -2\n")
    assert "-  Net  168,135.68\n+  Net  168,135.69" in diff
    assert docs.rewrite(doc, Canned(printed)) == 1
    assert doc.read_text("utf-8") == DOC.replace("168,135.68\n\n", "168,135.69\n")
    assert docs.check(docs.blocks(doc)[0], Canned(printed)) == []
    assert docs.rewrite(doc, Canned(printed)) == 0  # nothing left to change


@pytest.mark.parametrize(("text", "problem"), [
    ("```\nledger report\n```\n", "must name its language"),
    ("```sh\n$ ledger report\n```\n", "`$ ` prompts belong in a ```console block"),
    ("<!-- unchecked: -->\n```console\n$ ledger report\n```\n", "say why it is unchecked"),
    ("```console\n$ hledger bal\n```\n", "only `ledger` commands can be checked"),
    ("```console\nJune 2024\n```\n", "starts with a `$ ` command"),
])
def test_a_block_that_would_slip_past_the_check_is_refused(tmp_path, text, problem):
    doc = tmp_path / "page.markdown"
    doc.write_text(text, "utf-8")
    [found] = [m for b in docs.blocks(doc) for m in docs.problems(b)]
    assert f"{doc}:" in found and problem in found


def test_a_command_runs_in_process_with_its_exit_status_and_folders_normalised(tmp_path):
    ledger_dir = tmp_path / "led"
    ledger_dir.mkdir()  # a ledger with no rows yet
    text, code = docs.run_ledger(["report"], ledger_dir, tmp_path)
    assert code == 1
    assert docs.normalise(text, ledger_dir, tmp_path) == [
        f"{docs.SHOWN_LEDGER}: the ledger is empty",
        "  hint: import exports first: ledger import FILE"]


def test_the_filter_after_a_pipe_is_split_off_outside_quotes():
    assert docs.split_pipe("ledger report | head -16") == ("ledger report", "head -16")
    assert docs.split_pipe("ledger x 'a|b' | grep -A3 'USD to PKR' | sed 's/;.*//'") == (
        "ledger x 'a|b'", "grep -A3 'USD to PKR' | sed 's/;.*//'")
    assert docs.split_pipe("ledger reconcile") == ("ledger reconcile", None)


def test_the_documents_are_the_readme_and_docs():
    names = [p.relative_to(docs.ROOT) for p in docs.documents()]
    assert names[0] == Path("README.md") and Path("docs/export.md") in names


@pytest.mark.parametrize(("line", "found"), [
    ("ledger report --month 2024-06 --bogus", ["`ledger report` has no option --bogus"]),
    ("ledger reconcil --month 2024-06", ["`ledger` has no command 'reconcil'"]),
    ("ledger payouts statment Ali", ["`ledger payouts` has no command 'statment'"]),
    ("ledger --ledger ./demo payouts undo 3f9c   # --bogus in a comment", []),
    ("ledger export --format csv --month 2024-06 > 2024-06.csv", []),
    ("ledger import a.csv b.csv \\", []),
])
def test_commands_that_are_not_run_still_name_only_what_exists(line, found):
    assert docs.unknown(line) == found


def test_a_sh_example_with_a_removed_option_is_refused(tmp_path):
    doc = tmp_path / "page.markdown"
    doc.write_text("```sh\nledger report --montth 2024-06   # typo\n```\n", "utf-8")
    [found] = [m for b in docs.blocks(doc) for m in docs.problems(b)]
    assert found == (f"{doc}:1: `ledger report --montth 2024-06   # typo`: `ledger report` "
                     "has no option --montth")


def test_the_update_never_writes_a_failure_the_docs_did_not_show(tmp_path):
    doc = tmp_path / "page.markdown"
    doc.write_text("```console\n$ ledger report\nJune 2024\n```\n", "utf-8")
    broken = {"ledger report": ["error: internal error: KeyError: 'x'", "[exit 1]"]}
    refused: list[str] = []
    assert docs.rewrite(doc, Canned(broken), refused) == 0
    assert doc.read_text("utf-8") == "```console\n$ ledger report\nJune 2024\n```\n"
    assert refused == [f"{doc}:1: $ ledger report\nerror: internal error: KeyError: 'x'\n[exit 1]"]
