"""A ledger folder that does not exist is said as such by every command that reads a ledger
(`no ledger at PATH`, with what chose the path; exit 2), and nothing is created; the commands
that make a ledger make it, those that need none run without; an existing folder with no rows
is an empty ledger as before (ledger/store/directory.py `existing`)."""

from __future__ import annotations

import pytest

from tests.conftest import UPWORK
from tests.test_cli import _command_tree, ok, run

READS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("report",): (), ("transactions",): (), ("imports",): (), ("undo",): ("abc",),
    ("rebuild",): (), ("doctor",): (), ("fees",): (), ("export",): ("--format", "csv"),
    ("tax-register",): ("--tax-year", "2024"), ("rates", "check"): (),
    ("reconcile",): (), ("reconcile", "link"): ("a", "b"), ("reconcile", "unlink"): ("a", "b"),
    ("hours", "show"): (), ("rules", "list"): (), ("rules", "test"): (),
    ("rules", "suggest"): (), ("payouts",): (), ("payouts", "list"): (),
    ("payouts", "record"): ("Ali", "5", "PKR", "--date", "2024-06-01"),
    ("payouts", "undo"): ("x",), ("payouts", "statement"): ("Ali",),
}
"""Commands that read a ledger, with the arguments they need."""
CREATES = {("import",), ("init",), ("hours", "import"), ("formats", "new")}
"""Commands that make a ledger where there is none."""
NEEDS_NONE: dict[tuple[str, ...], tuple[str, ...]] = {
    ("formats",): (), ("benchmarks",): ("--country", "PK"),
    ("quote",): ("500", "USD", "--route", "upwork,payoneer,bank", "--to", "PKR"),
    ("rates", "show"): ("USD/PKR", "--from", "2024-06-01"), ("fees", "--rules"): (),
}
"""Commands that read only what a ledger may add to bundled data (`fees --rules`: an option)."""
OWN_FOLDERS = {("demo",), ("batch",)}
"""Commands that work in folders of their own, not the ledger."""
GROUPS = {("formats",), ("hours",), ("payouts",), ("rates",), ("reconcile",), ("rules",)}


def test_every_command_is_one_of_the_kinds_above():
    runnable = {path for path, group in _command_tree().items() if not group} \
        | {path for path in GROUPS if path in READS or path in NEEDS_NONE}
    assert runnable == set(READS) | CREATES | {p for p in NEEDS_NONE if p[-1] != "--rules"} \
        | OWN_FOLDERS


@pytest.mark.parametrize("path", list(READS), ids=" ".join)
def test_a_missing_ledger_is_refused_and_not_created(tmp_path, path):
    result = run("--ledger", "nu-missing", *path, *READS[path], cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr == (
        "error: no ledger at nu-missing\n  hint: --ledger names this folder: check the path; "
        "`ledger import FILE` creates a ledger there\n")
    assert not (tmp_path / "nu-missing").exists()


@pytest.mark.parametrize("path", [("report",), ("undo",), ("doctor",), ("transactions",)],
                         ids=" ".join)
def test_the_hint_names_what_chose_the_folder(tmp_path, path):
    """$LEDGER_DIR, or the default folder (tests/test_cli.run keeps it in tmp_path)."""
    by_env = run(*path, *READS[path], cwd=tmp_path, env={"LEDGER_DIR": str(tmp_path / "env")})
    assert by_env.returncode == 2
    assert f"error: no ledger at {tmp_path / 'env'}\n" in by_env.stderr
    assert "hint: $LEDGER_DIR names this folder" in by_env.stderr
    default = run(*path, *READS[path], cwd=tmp_path)
    assert default.returncode == 2
    assert f"error: no ledger at {tmp_path / '.xdg-data' / 'freelance-ledger'}\n" \
        in default.stderr
    assert "it is the default folder (no --ledger DIR or $LEDGER_DIR given)" in default.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", list(NEEDS_NONE), ids=" ".join)
def test_what_needs_no_ledger_runs_without_one_and_makes_none(tmp_path, path):
    ok(run("--ledger", "nu-missing", *path, *NEEDS_NONE[path], cwd=tmp_path))
    assert not (tmp_path / "nu-missing").exists()


@pytest.mark.parametrize("args", [("import", UPWORK), ("init", "--currency", "PKR")],
                         ids=lambda a: a[0])
def test_what_makes_a_ledger_still_does(tmp_path, args):
    ok(run("--ledger", "new", *args, cwd=tmp_path))
    assert (tmp_path / "new").is_dir()
    ok(run("--ledger", "new", "imports", cwd=tmp_path))


def test_a_dry_run_import_makes_no_ledger(tmp_path):
    ok(run("--ledger", "new", "import", "--dry-run", UPWORK, cwd=tmp_path))
    assert not (tmp_path / "new").exists()


def test_an_existing_folder_without_rows_is_an_empty_ledger(tmp_path):
    (tmp_path / "led").mkdir()
    report = run("--ledger", "led", "report", cwd=tmp_path)
    assert report.returncode == 1
    assert report.stderr == "led: the ledger is empty\n" \
        "  hint: import exports first: ledger import FILE\n"
    assert ok(run("--ledger", "led", "transactions", "--format", "json", cwd=tmp_path)
              ).stdout == "[]\n"
    assert ok(run("--ledger", "led", "doctor", cwd=tmp_path)).stdout.strip() \
        == "the ledger is consistent"
