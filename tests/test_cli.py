"""End-to-end: the real `ledger` command in a subprocess, on the bundled demo exports.

One demo ledger is imported once per module through the CLI; tests that change a ledger work
on a copy of it. The helpers here (`run`, `snapshot`) are shared with the broken-file catalogue.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import io
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.core.demo import EXPORTS, OPTIONS, demo_dir
from tests.cliserver import CLIENT
from tests.conftest import snapshot

SCRIPT = Path(sys.executable).with_name("ledger")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "ledger.cli"]
FORKED = not os.environ.get("LEDGER_TEST_SUBPROCESS")
"""`run` forks commands from tests/cliserver.py (no start-up per command); set
LEDGER_TEST_SUBPROCESS=1 to start each as a real process."""
DEMO = demo_dir()
BROKEN = Path(__file__).parent / "data" / "broken"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    """`ledger ARGS` in `cwd` (a new process, see FORKED), with no LEDGER_DIR inherited and user
    data kept inside `cwd`."""
    environ = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DIR", "LEDGER_DEBUG")}
    environ.update({"COLUMNS": "200", "NO_COLOR": "1", "XDG_DATA_HOME": str(cwd / ".xdg-data")})
    environ.update(env or {})
    if FORKED:
        return CLIENT.run(list(map(str, args)), cwd=cwd, env=environ, timeout=120)
    return subprocess.run([*COMMAND, *map(str, args)], cwd=cwd, env=environ, capture_output=True,
                          text=True, encoding="utf-8", timeout=120, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """The result, after checking the command succeeded without a traceback."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def demo_files() -> list[Path]:
    return [DEMO / name for name in EXPORTS]


def demo_imports(names: tuple[str, ...] = EXPORTS) -> list[list[str | Path]]:
    """`ledger import` arguments that import the demo exports `names` in their order, as
    `ledger demo` does: a file it reads with options of its own (ledger.core.demo.OPTIONS:
    the Payoneer export, whose dates prove no order, with --date-order mdy) in a command of
    its own. The rows are stored in the order one command would store them in."""
    commands: list[list[str | Path]] = [[]]
    for name in names:
        own = OPTIONS.get(name)
        if own:
            flags = [part for key, value in own.items()
                     for part in (f"--{key.replace('_', '-')}", value)]
            commands += [[DEMO / name, *flags], []]
        else:
            commands[-1].append(DEMO / name)
    return [command for command in commands if command]


def import_all(ledger: str | Path, *options: str, cwd: Path,
               names: tuple[str, ...] = EXPORTS) -> dict:
    """`ledger import --format json` of the demo exports `names` (`demo_imports`: as
    many commands as that takes, each checked to succeed), as one summary."""
    summary: dict = {}
    for args in demo_imports(names):
        part = as_json(run("--ledger", ledger, "import", "--format", "json", *options, *args,
                           cwd=cwd))
        summary = {**part, "files": [*summary.get("files", []), *part["files"]]}
    return summary


def import_demo(cwd: Path, ledger: str = "led") -> Path:
    """A ledger at cwd/ledger with the demo settings and every demo export imported."""
    root = cwd / ledger
    root.mkdir(parents=True)
    for name in ("ledger.toml", "rates.csv"):
        shutil.copyfile(DEMO / name, root / name)
    summary = import_all(ledger, cwd=cwd)
    (cwd / "import-summary.json").write_text(json.dumps(summary), "utf-8")
    return root


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory) -> Path:
    """The demo exports imported once through the CLI (treat as read-only)."""
    return import_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def added(demo_ledger) -> dict[str, int]:
    """Rows each demo export added (by file name), from `import --format json`."""
    summary = json.loads((demo_ledger.parent / "import-summary.json").read_text("utf-8"))
    counts = {Path(f["path"]).name: f["added"] for f in summary["files"]}
    assert list(counts) == list(EXPORTS) and all(counts.values())
    return counts


@pytest.fixture
def own_ledger(demo_ledger, tmp_path) -> Path:
    """A private copy of the demo ledger at tmp_path/led, for tests that change it."""
    shutil.copytree(demo_ledger, tmp_path / "led")
    return tmp_path / "led"


def as_json(result: subprocess.CompletedProcess[str]):
    return json.loads(ok(result).stdout)


# --- demo and help ----------------------------------------------------------------------------


def test_demo_prints_a_report_in_pkr(tmp_path):
    result = ok(run("demo", cwd=tmp_path))
    assert "Net" in result.stdout
    assert "PKR" in result.stdout


def test_demo_reads_its_payoneer_export_month_first_as_the_tests_import_it(tmp_path,
                                                                          demo_ledger):
    """The demo's Payoneer dates (06/08, 06/10) prove no order: `ledger demo` imports that
    file with date_order mdy (ledger.core.demo.OPTIONS), logged so a rebuild reads it alike
    (no note), and stores the rows `demo_imports`' commands store, in the same order."""
    ok(run("demo", "--keep", "kept", cwd=tmp_path))
    kept = as_json(run("--ledger", "kept", "transactions", "--format", "json", cwd=tmp_path))
    imported = as_json(run("--ledger", demo_ledger, "transactions", "--format", "json",
                           cwd=tmp_path))
    assert [r["id"] for r in kept] == [r["id"] for r in imported]
    payoneer = DEMO / "payoneer_transactions_2024-06.csv"
    assert sorted(r["date"] for r in kept if r["import_id"] == sha(payoneer)) == [
        "2024-06-08", "2024-06-10"]
    assert ok(run("--ledger", "kept", "rebuild", cwd=tmp_path)).stdout == (
        f"rebuilt from {len(EXPORTS)} imports: {len(kept)} rows (was {len(kept)})\n")
    alone = run("--ledger", "alone", "import", payoneer, cwd=tmp_path)
    assert alone.returncode == 1 and "could be day-first or month-first" in alone.stderr


def _command_tree() -> dict[tuple[str, ...], bool]:
    """Every command path below `ledger` -> whether it is a group (like `rates`)."""
    from ledger.cli.main import app
    from tests.inprocess import click_command

    found: dict[tuple[str, ...], bool] = {}

    def walk(group, path: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            subcommands = getattr(command, "commands", None)
            found[(*path, name)] = subcommands is not None
            if subcommands is not None:
                walk(command, (*path, name))

    walk(click_command(app), ())
    return dict(sorted(found.items()))


@pytest.mark.parametrize("command", [
    c for c in _command_tree()],
    ids=" ".join)
def test_command_help_has_examples(command, tmp_path):
    result = ok(run(*command, "--help", cwd=tmp_path))
    assert "Examples" in result.stdout


def test_top_level_help_runs(tmp_path):
    result = ok(run("--help", cwd=tmp_path))
    for command in _command_tree():
        if len(command) == 1:
            assert command[0] in result.stdout


def test_top_level_help_has_examples(tmp_path):
    assert "Examples" in ok(run("--help", cwd=tmp_path)).stdout


HELPS = [["--help"], *([*c, "--help"] for c in _command_tree())]
HELP_CASES = [*HELPS, [], ["nosuch"], ["--width", "5", "report", "--help"],
    ["--ledger", "x", "--width", "60", "rates", "show", "--help"], ["reconcile", "--bad"],
    ["reconcile", "lnk"], ["payouts", "--month", "2024-06", "lst"]]


def test_the_fast_start_builds_what_the_whole_app_does():
    """`ledger` builds only the command asked for (ledger/cli/lazy.py): each command's help and
    the listing, and the errors, are what the whole app prints."""
    from typer.testing import CliRunner

    from ledger.cli.lazy import for_args
    from ledger.cli.main import app
    from tests.inprocess import BuiltOnce

    runner, whole_app = CliRunner(), BuiltOnce()
    for args in HELP_CASES:
        whole = whole_app.invoke(app, args, prog_name="ledger")
        fast = runner.invoke(for_args(app, args), args, prog_name="ledger")
        assert (fast.output, fast.exit_code) == (whole.output, whole.exit_code), args
    assert len(for_args(app, ["--width", "60", "report"]).registered_commands) == 1
    # `reconcile --month M` converts no signature of link/unlink; `reconcile link` does
    group = for_args(app, ["reconcile", "--month", "2024-06"]).registered_groups[0]
    params = {c.name: inspect.signature(c.callback).parameters
              for c in group.typer_instance.registered_commands}
    assert params["link"] == params["unlink"] == {}
    group = for_args(app, ["reconcile", "link", "a", "b"]).registered_groups[0]
    assert [len(inspect.signature(c.callback).parameters)
            for c in group.typer_instance.registered_commands] == [2, 0]


def test_help_loads_nothing_heavy():
    """Every --help under 0.3 s: none loads polars, rich or pydantic (typer's coercion,
    0.2 s of imports alone), measured in one process that asks every command for its help."""
    script = ("import sys, contextlib, io\nfrom ledger.cli.main import main\n"
              f"for args in {HELPS!r}:\n"
              "    sys.argv = ['ledger', *args]\n"
              "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):"
              "\n        main()\n"
              "print(sorted(m for m in ('polars', 'rich', 'pydantic') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"


# --- report JSON contract ---------------------------------------------------------------------

MONEY_TOTALS = ("gross", "platform_fees", "payment_fees", "fx_cost", "bank_deductions", "taxes",
                "subcontractor_payouts", "expenses", "net")
COSTS = MONEY_TOTALS[1:-1]
TOTALS = {*MONEY_TOTALS, "hours", "unpaid_hours", "net_hourly", "net_hourly_all"}


def money_pattern(currency: str) -> re.Pattern[str]:
    from ledger.core.money import minor_units

    digits = minor_units(currency)
    return re.compile(rf"^-?\d+\.\d{{{digits}}}$" if digits else r"^-?\d+$")


@pytest.fixture(scope="module")
def report_json(demo_ledger) -> dict:
    return as_json(run("--ledger", demo_ledger, "report", "--format", "json",
                       cwd=demo_ledger.parent))


def test_report_json_has_the_contract_keys(report_json):
    assert report_json["schema"] == "ledger.report/1"
    assert {"schema", "period", "currency", "totals", "by_platform", "by_client", "benchmarks",
            "rates"} <= set(report_json)
    assert report_json["period"]["from"] == "2024-06-01"
    assert report_json["period"]["to"] == "2024-06-30"
    assert report_json["currency"] == "PKR"  # home_currency in the demo ledger.toml
    assert set(report_json["totals"]) >= TOTALS
    for item in report_json["by_platform"]:
        assert {"platform", "gross", "fees", "net", "hours"} <= set(item)
    # the platforms that paid her: June's bank charge and tax were taken from PayPal's money
    # arriving, so they are PayPal's payout costs, not an item of the bank's own
    assert {p["platform"] for p in report_json["by_platform"]} == {"upwork", "paypal"}
    for item in report_json["by_client"]:
        assert {"client", "gross", "net", "hours"} <= set(item)
    assert isinstance(report_json["benchmarks"], list)
    for item in report_json["benchmarks"]:
        assert {"name", "country", "year", "monthly", "currency", "ratio", "source"} <= set(item)
    assert report_json["rates"]
    for item in report_json["rates"]:
        assert {"date", "from", "to", "rate", "provider"} <= set(item)
        Decimal(item["rate"])


def test_report_money_is_decimal_strings_in_minor_units(report_json):
    money = money_pattern(report_json["currency"])
    totals = report_json["totals"]
    for key in (*MONEY_TOTALS, "other", "net_hourly", "net_hourly_all"):
        assert isinstance(totals[key], str) and money.match(totals[key]), (key, totals[key])
    for key in ("hours", "unpaid_hours"):
        assert re.match(r"^\d+\.\d{2}$", totals[key])
    for section in ("by_platform", "by_client"):
        for item in report_json[section]:
            for key in ("gross", "fees", "net"):
                if key in item:
                    assert money.match(item[key]), (section, key, item[key])
    for cost in COSTS:
        assert Decimal(totals[cost]) >= 0, cost


def test_report_net_is_gross_minus_costs_plus_other(report_json):
    totals = {k: Decimal(v) for k, v in report_json["totals"].items()
              if k in (*MONEY_TOTALS, "other")}
    assert totals["net"] == (totals["gross"] - sum(totals[c] for c in COSTS)
                             + totals.get("other", Decimal(0)))
    assert totals["gross"] > 0 and totals["platform_fees"] > 0 and totals["fx_cost"] > 0


def test_report_output_file(demo_ledger, tmp_path, report_json):
    result = ok(run("--ledger", demo_ledger, "report", "--format", "json", "-o", "out.json",
                    cwd=tmp_path))
    assert result.stdout == ""
    assert json.loads((tmp_path / "out.json").read_text("utf-8")) == report_json


# --- transactions -----------------------------------------------------------------------------


def canonical_columns() -> list[str]:
    from ledger.core.schema import columns

    return list(columns())


@pytest.fixture(scope="module")
def rows_json(demo_ledger) -> list[dict]:
    return as_json(run("--ledger", demo_ledger, "transactions", "--format", "json",
                       cwd=demo_ledger.parent))


def test_transactions_json_rows_have_canonical_columns_and_provenance(rows_json, added):
    files = {sha(p): p.read_text("utf-8-sig").splitlines() for p in demo_files()}
    names = {sha(p): p.name for p in demo_files()}
    assert len(rows_json) == sum(added.values())
    for row in rows_json:
        assert list(row) == [*canonical_columns(), "file"]
        assert row["import_id"] in files
        assert row["file"] == names[row["import_id"]]  # the file as imported, by its name
        assert isinstance(row["line"], int) and row["line"] >= 2
        Decimal(row["amount"])
        # the row's source line is where its transaction id is written
        assert row["ref"] is None or row["ref"] in files[row["import_id"]][row["line"] - 1], row


def test_transactions_filters(demo_ledger):
    rows = as_json(run("--ledger", demo_ledger, "transactions", "--format", "json", "--kind",
                       "platform_fee", "--month", "2024-06", cwd=demo_ledger.parent))
    assert rows and {r["kind"] for r in rows} == {"platform_fee"}
    assert {r["date"][:7] for r in rows} == {"2024-06"}


def test_transactions_csv_parses_back(demo_ledger, rows_json):
    result = ok(run("--ledger", demo_ledger, "transactions", "--format", "csv",
                    cwd=demo_ledger.parent))
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == [*canonical_columns(), "file"]
    parsed = list(reader)
    assert len(parsed) == len(rows_json)
    for got, want in zip(parsed, rows_json, strict=True):
        for key in ("id", "date", "source", "kind", "currency", "import_id", "ref", "file"):
            assert got[key] == (want[key] or ""), key
        assert Decimal(got["amount"]) == Decimal(want["amount"])
        assert int(got["line"]) == want["line"]


# --- import, dry run, imports, undo, rebuild --------------------------------------------------


def test_dry_run_writes_nothing(own_ledger, tmp_path):
    before = snapshot(own_ledger)
    shutil.copyfile(BROKEN / "ambiguous-date-paypal.csv", tmp_path / "dmy.csv")
    out = as_json(run("--ledger", "led", "import", "dmy.csv", "--date-order", "dmy", "--dry-run",
                      "--format", "json", cwd=tmp_path))
    assert out["dry_run"] is True
    assert [(f["format"], f["added"]) for f in out["files"]] == [("paypal", 5)]
    assert snapshot(own_ledger) == before
    table = ok(run("--ledger", "led", "import", "dmy.csv", "--date-order", "dmy", "--dry-run",
                   cwd=tmp_path))
    assert "dry run: nothing was written" in table.stdout
    assert snapshot(own_ledger) == before


def test_dry_run_into_a_new_ledger_creates_nothing(tmp_path):
    import_all("new", "--dry-run", cwd=tmp_path)
    assert not (tmp_path / "new").exists()


def test_same_file_twice_adds_nothing_the_second_time(own_ledger, tmp_path, rows_json, added):
    again = import_all("led", cwd=tmp_path)
    assert [(f["added"], f["duplicates"]) for f in again["files"]] == [
        (0, n) for n in added.values()]
    after = as_json(run("--ledger", "led", "transactions", "--format", "json", cwd=tmp_path))
    assert after == rows_json


def test_same_file_twice_in_one_command(tmp_path, added):
    paypal = DEMO / "paypal_Download.CSV"
    n = added[paypal.name]
    out = as_json(run("--ledger", "led", "import", "--format", "json", paypal, paypal,
                      cwd=tmp_path))
    assert [(f["added"], f["duplicates"]) for f in out["files"]] == [(n, 0), (0, n)]
    rows = as_json(run("--ledger", "led", "transactions", "--format", "json", cwd=tmp_path))
    assert len(rows) == n


def test_imports_lists_ids(demo_ledger, added):
    entries = as_json(run("--ledger", demo_ledger, "imports", "--format", "json",
                          cwd=demo_ledger.parent))
    assert [(e["import_id"], e["file"], e["added"]) for e in entries] == [
        (sha(p), p.name, added[p.name]) for p in demo_files()]
    table = ok(run("--ledger", demo_ledger, "imports", cwd=demo_ledger.parent)).stdout
    for path in demo_files():
        assert sha(path)[:12] in table


def test_undo_then_reimport_and_rebuild_restore_the_report(own_ledger, tmp_path, report_json,
                                                           added):
    paypal = DEMO / "paypal_Download.CSV"
    paypal_id = sha(paypal)
    total, removed = sum(added.values()), added[paypal.name]
    result = ok(run("--ledger", "led", "undo", paypal_id[:8], cwd=tmp_path))
    assert result.stdout.strip() == (f"undid paypal_Download.CSV ({paypal_id[:12]}): "
                                     f"{removed} rows removed")
    rows = as_json(run("--ledger", "led", "transactions", "--format", "json", cwd=tmp_path))
    assert len(rows) == total - removed
    assert paypal_id not in {r["import_id"] for r in rows}
    ids = [e["import_id"] for e in
           as_json(run("--ledger", "led", "imports", "--format", "json", cwd=tmp_path))]
    assert paypal_id not in ids
    undone = as_json(run("--ledger", "led", "report", "--format", "json", cwd=tmp_path))
    assert undone["totals"] != report_json["totals"]

    ok(run("--ledger", "led", "import", paypal, cwd=tmp_path))
    rebuilt = ok(run("--ledger", "led", "rebuild", cwd=tmp_path))
    assert rebuilt.stdout.strip() == (f"rebuilt from {len(EXPORTS)} imports: {total} rows "
                                      f"(was {total})")
    restored = as_json(run("--ledger", "led", "report", "--format", "json", cwd=tmp_path))
    assert restored == report_json


def test_imports_keeps_the_rows_an_import_added_after_a_reimport(own_ledger, tmp_path, added):
    april = DEMO / EXPORTS[0]
    ok(run("--ledger", "led", "import", april, cwd=tmp_path))
    entries = as_json(run("--ledger", "led", "imports", "--format", "json", cwd=tmp_path))
    assert [e["added"] for e in entries if e["import_id"] == sha(april)] == [added[april.name]]


def test_rebuild_after_reimport_with_other_options_keeps_the_rows(tmp_path):
    shutil.copyfile(BROKEN / "ambiguous-decimal-paypal.csv", tmp_path / "dec.csv")
    ok(run("--ledger", "led", "import", "dec.csv", "--decimal-mark", ".", cwd=tmp_path))
    before = as_json(run("--ledger", "led", "transactions", "--format", "json", cwd=tmp_path))
    assert sorted(r["amount"] for r in before) == ["1000.0000", "1500.0000"]
    again = as_json(run("--ledger", "led", "import", "dec.csv", "--decimal-mark", ",",
                        "--format", "json", cwd=tmp_path))
    assert again["files"][0]["added"] == 0
    ok(run("--ledger", "led", "rebuild", cwd=tmp_path))
    after = as_json(run("--ledger", "led", "transactions", "--format", "json", cwd=tmp_path))
    assert after == before


# --- init and ledger selection ----------------------------------------------------------------


def test_init_writes_config_and_refuses_a_second_time(tmp_path):
    result = ok(run("--ledger", "led", "init", "--currency", "PKR", "--country", "PK",
                    cwd=tmp_path))
    config = tmp_path / "led" / "ledger.toml"
    assert "wrote led/ledger.toml" in result.stdout
    written = config.read_bytes()
    assert written == b'home_currency = "PKR"\ncountry = "PK"\n'
    again = run("--ledger", "led", "init", "--currency", "PKR", "--country", "PK", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr == ("led/ledger.toml: ledger.toml already exists\n"
                            "  hint: edit it by hand\n")
    assert config.read_bytes() == written


def test_ledger_option_and_env_select_the_ledger(demo_ledger, tmp_path):
    expected = [sha(p) for p in demo_files()]

    def ids(*args: str | Path, env: dict[str, str] | None = None) -> list[str]:
        entries = as_json(run(*args, "imports", "--format", "json", cwd=tmp_path, env=env))
        return [e["import_id"] for e in entries]

    assert ids("--ledger", demo_ledger) == expected
    assert ids(env={"LEDGER_DIR": str(demo_ledger)}) == expected
    empty = tmp_path / "empty"
    missing = run("imports", cwd=tmp_path, env={"LEDGER_DIR": str(empty)})
    assert missing.returncode == 2 and f"no ledger at {empty}\n" in missing.stderr
    assert ids("--ledger", demo_ledger, env={"LEDGER_DIR": str(empty)}) == expected
    report = as_json(run("report", "--format", "json", cwd=tmp_path,
                         env={"LEDGER_DIR": str(demo_ledger)}))
    assert report["currency"] == "PKR"
    assert not empty.exists()
