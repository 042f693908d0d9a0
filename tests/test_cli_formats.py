"""Each command offers only the output formats it can write, and writes each it offers;
`--json` is `--format json` wherever that is offered."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ledger.core.demo import TIMESHEET
from tests.test_cli import DEMO, _command_tree, import_demo, ok, run


@pytest.mark.parametrize(("args", "allowed"), [
    (("import", "x.csv"), "'table', 'json'"),
    (("report",), "'table', 'json', 'csv', 'html'"),
    (("transactions",), "'table', 'json', 'csv'"),
])
def test_unwritable_formats_are_usage_errors(tmp_path, args, allowed):
    result = run(*args[:1], "--format", "html" if args[0] != "report" else "xml", *args[1:],
                 cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"is not one of {allowed}" in result.stderr


def format_choices(path: tuple[str, ...]) -> set[str]:
    """The values `ledger PATH --format` takes (empty: no --format)."""
    from ledger.cli.main import app
    from tests.inprocess import click_command

    command = click_command(app)
    for name in path:
        command = command.commands[name]
    return {str(getattr(choice, "value", choice)) for param in command.params
            if "--format" in param.opts for choice in param.type_descriptor.annotation}


CSV_RUNS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("report",): ("--month", "2024-06"),
    ("transactions",): (),
    ("benchmarks",): ("--year", "2024"),
    ("imports",): (),
    ("formats",): (),
    ("rates", "show"): ("USD/PKR", "--from", "2024-06-01", "--to", "2024-06-03"),
    ("rates", "check"): ("--month", "2024-06"),
    ("reconcile",): ("--month", "2024-06", "--as-of", "2024-07-01"),
    ("payouts",): ("--month", "2024-06"),
    ("payouts", "list"): (),
    ("payouts", "statement"): ("Ali", "--month", "2024-06"),
    ("tax-register",): ("--tax-year", "2024"),
    ("export",): ("--month", "2024-06"),
}
"""How each command that offers `--format csv` is run on the demo ledger."""


def test_every_command_offering_csv_is_run_below():
    offering = {path for path in _command_tree() if "csv" in format_choices(path)}
    assert offering == set(CSV_RUNS)


@pytest.fixture(scope="module")
def worker_ledger(tmp_path_factory) -> Path:
    """The demo ledger with a sub-worker and a payment to them recorded (for `payouts
    statement` and `payouts list`); read-only."""
    root = import_demo(tmp_path_factory.mktemp("formats"))
    with open(root / "ledger.toml", "a", encoding="utf-8") as toml:
        toml.write('\n[[workers]]\nname = "Ali"\ncurrency = "PKR"\n')
    ok(run("--ledger", root.name, "payouts", "record", "Ali", "5000", "PKR", "--date",
           "2024-06-20", cwd=root.parent))
    return root


@pytest.mark.parametrize("path", list(CSV_RUNS), ids=" ".join)
def test_csv_is_csv_for_every_command_that_offers_it(worker_ledger, path):
    """Not the boxed table under another name: a header row, rows of as many cells."""
    result = ok(run("--ledger", worker_ledger.name, *path, *CSV_RUNS[path], "--format", "csv",
                    cwd=worker_ledger.parent))
    assert not set(result.stdout) & set("┃│┏━┡└")
    header, *rows = list(csv.reader(io.StringIO(result.stdout)))
    assert header and all(header) and rows
    assert all(len(row) == len(header) for row in rows)


@pytest.mark.parametrize(("path", "columns"), [
    (("imports",), ("import_id", "file", "format", "time", "rows_read", "added",
                    "duplicates", "skipped", "archived")),
    (("benchmarks",), None),
])
def test_the_csv_holds_what_the_json_holds(worker_ledger, path, columns):
    """`imports` and `benchmarks` as CSV: a line per JSON record, each cell its value."""
    def out(fmt: str) -> str:
        return ok(run("--ledger", worker_ledger.name, *path, "--format", fmt,
                      cwd=worker_ledger.parent)).stdout

    records = json.loads(out("json"))
    table = list(csv.DictReader(io.StringIO(out("csv"))))
    assert len(table) == len(records) > 0
    assert tuple(table[0]) == (columns or tuple(records[0]))
    for line, record in zip(table, records, strict=True):
        for key, cell in line.items():
            value = record.get(key)
            expected = json.dumps(value, sort_keys=True, separators=(",", ":")) \
                if isinstance(value, dict) else "" if value is None else str(value)
            assert cell == expected, (key, record)


def test_records_csv_keeps_cells_safe_and_nested_values_readable():
    from ledger.render.report import records_csv

    text = records_csv([{"a": "=1+2", "b": None, "c": {"z": 1, "y": 2}, "d": -5}],
                       ("a", "b", "c", "d"))
    assert list(csv.reader(io.StringIO(text))) == [
        ["a", "b", "c", "d"], ["'=1+2", "", '{"y":2,"z":1}', "-5"]]
    assert records_csv([], ("x", "y")) == "x,y\n"


JSON_RUNS: dict[tuple[str, ...], tuple[str, ...]] = {
    **{path: args for path, args in CSV_RUNS.items()
       if path != ("export",)},
    ("import",): ("--dry-run", str(DEMO / "statements_2024-04-01_2024-04-30.csv")),
    ("hours", "import"): ("--dry-run", str(DEMO / TIMESHEET)),
    ("hours", "show"): ("--month", "2024-06"),
    ("doctor",): ("--check",),
    ("fees",): ("--month", "2024-06"),
    ("quote",): ("500", "USD", "--route", "upwork,payoneer,bank", "--to", "PKR", "--date",
                 "2024-06-10"),
    ("rules", "list"): (), ("rules", "test"): (), ("rules", "suggest"): (),
}
"""How each command that offers `--format json` is run on the demo ledger."""


def test_every_command_offering_json_is_run_below():
    offering = {path for path in _command_tree() if "json" in format_choices(path)}
    assert offering == set(JSON_RUNS)


@pytest.mark.parametrize("path", list(JSON_RUNS), ids=" ".join)
def test_json_is_short_for_format_json_everywhere(worker_ledger, path):
    """`--json`, a hidden alias (ledger/cli/lazy.py `json_as_format`): what `doctor` and
    `hours` took before they took --format, and what `ledger report --json` was refused."""
    def out(*fmt: str) -> object:
        return json.loads(ok(run("--ledger", worker_ledger.name, *path, *JSON_RUNS[path], *fmt,
                                 cwd=worker_ledger.parent)).stdout)

    assert out("--json") == out("--format", "json")
    assert "--json" not in ok(run(*path, "--help", cwd=worker_ledger.parent)).stdout


def test_json_stays_unknown_where_no_json_is_offered(tmp_path):
    result = run("export", "--json", cwd=tmp_path)
    assert result.returncode == 2 and "No such option: --json" in result.stderr


def test_json_as_format_reads_only_the_commands_own_words():
    """A value of an option and a group's subcommand are left as given."""
    from ledger.cli.lazy import json_as_format
    from ledger.cli.main import app
    from tests.inprocess import click_command

    report = click_command(app).commands["report"]
    assert json_as_format(report, ["--json", "--month", "2024-06"]) == [
        "--format", "json", "--month", "2024-06"]
    assert json_as_format(report, ["--month", "--json"]) == ["--month", "--json"]
    assert json_as_format(report, ["--month"]) == ["--month"]
    reconcile = click_command(app).commands["reconcile"]
    assert json_as_format(reconcile, ["--json", "link", "--json"]) == [
        "--format", "json", "link", "--json"]


def test_a_statement_named_json_is_written_as_json(worker_ledger, tmp_path):
    out = tmp_path / "ali.json"
    ok(run("--ledger", str(worker_ledger), "payouts", "statement", "Ali", "--month", "2024-06",
           "-o", str(out), cwd=tmp_path))
    shown = ok(run("--ledger", str(worker_ledger), "payouts", "statement", "Ali", "--month",
                   "2024-06", "--format", "json", cwd=tmp_path)).stdout
    assert json.loads(out.read_text("utf-8")) == json.loads(shown)
    assert json.loads(shown)["schema"] == "ledger.statement/2"
