"""The demo report's shortcuts (issue 23, h36demo): each gives what the longer way gives."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl
import pytest

from tests.test_cli import import_demo


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo exports imported once through the CLI (treat as read-only)."""
    return import_demo(tmp_path_factory.mktemp("demo"))


def test_a_lookup_with_every_rate_direct_answers_as_the_crossing_plan_would(
        demo_ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FxChain._resolve skips the plan that joins the crossed legs when every need has a
    direct rate: the answers (rows, order, dtypes) are the plan's, for needs all direct, some
    crossed, some unknown, and none."""
    from ledger.store.directory import Ledger
    from rules import fx

    ledger = Ledger(demo_ledger)
    rows = ledger.rows()
    original = fx._direct_only
    days = [dt.date(2024, 4, 26), dt.date(2024, 6, 3), dt.date(2024, 6, 30),
            dt.date(2023, 12, 31), dt.date(2024, 5, 17)]
    cases = [(["USD"] * 5, "PKR"), (["USD", "EUR", "USD", "EUR", "USD"], "PKR"),
             (["EUR", "GBP", "USD", "XOF", "PKR"], "USD"), (["USD"] * 5, "EUR"),
             ([], "PKR")]
    for currencies, to in cases:
        needs = pl.DataFrame({"date": days[:len(currencies)], "currency": currencies},
                             schema={"date": pl.Date, "currency": pl.String})
        answers = []
        for direct in (fx._direct_only, lambda wanted, found, stale_days: None):
            monkeypatch.setattr(fx, "_direct_only", direct)
            chain = fx.FxChain.for_ledger(rows, ledger.rates_path)
            answers.append(chain.lookup(needs, to))
        fast, slow = answers
        assert fast.schema == slow.schema, (currencies, to)
        assert fast.equals(slow), (currencies, to)
    monkeypatch.undo()
    taken: list[pl.DataFrame | None] = []
    monkeypatch.setattr(fx, "_direct_only", lambda wanted, found, stale_days: taken.append(
        original(wanted, found, stale_days)) or taken[-1])
    fx.FxChain.for_ledger(rows, ledger.rates_path).lookup(pl.DataFrame(
        {"date": days, "currency": ["USD"] * 5}), "PKR")
    assert taken and taken[0] is not None  # the demo's USD->PKR needs take the shortcut



def _lines(tmp: Path) -> list[list[str]]:
    """`report` command lines, plain and not: each global option and each report option in
    the spellings click reads, values typer takes and values it refuses."""
    from itertools import product

    unreadable = tmp / "locked"
    unreadable.mkdir()
    unreadable.chmod(0)
    heads = [[], ["--ledger", str(tmp)], [f"--ledger={tmp}"], ["--ledger", str(tmp / "none")],
             ["--ledger", str(unreadable)], ["--ledger", ""], ["--ledger", "-x"],
             ["--width", "60"], ["--width=20"], ["--width", "19"], ["--width", "abc"],
             ["--width", " 70"], ["--debug"], ["--debug=1"], ["--debug", "--width", "80"],
             ["--ledger", str(tmp), "--ledger", str(tmp)], ["-h"], ["--"], ["--wid", "60"]]
    tails = [[], ["--month", "2024-06"], ["--month=2024-06"], ["--month", "06/2024"],
             ["--month", ""], ["--month"], ["--year", "2024"], ["--year=2024"],
             ["--year", "20x4"], ["--year", "٣"], ["--year", "1_000"], ["--year", "+5"],
             ["--from", "2024-03-15", "--to", "2024-08-10"], ["--currency", "pkr"],
             ["--format", "json"], ["--format=csv"], ["--format", "html", "-o",
                                                     str(tmp / "r.html")],
             ["--format", "JSON"], ["--format", "xml"], ["-o", str(tmp / "out.txt")],
             ["--output", str(tmp)], [f"--output={tmp / 'r.csv'}"], ["-o", str(unreadable)],
             ["-ofile"], ["--online"], ["--online=yes"], ["--tax-year", "2024"],
             ["--month", "2024-06", "--month", "2024-07"], ["--help"], ["extra"],
             ["--ledger", str(tmp)], ["--month", "2024-06", "--year", "2024", "--online"]]
    lines = [[*head, "report", *tail] for head, tail in product(heads, tails)]
    return [*lines, ["transactions"], ["reconcile", "--month", "2024-06"], [], ["--help"],
            ["report", "report"], ["--ledger", str(tmp)]]


def test_a_plain_report_line_is_read_as_typer_reads_it(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """ledger/cli/fast.py reads a plain `report` line without typer: for every line it reads,
    the global options and the report's arguments are exactly what the app's own parsing
    hands the same `report_cmd.report`; lines it does not read (help, errors, anything
    unusual) are left to the app. The bench's lines are read."""
    from ledger.cli import fast
    from tests.test_fast_commands import _read_as_typer

    # every line but those read as another command (tests/test_fast_commands reads those)
    reports = [args for args in _lines(tmp_path)
               if (fast.read(args, environ={}) or ("report",))[0] == "report"]
    assert _read_as_typer(monkeypatch, "report", reports) > 150
    bench = ["--ledger", str(tmp_path), "report", "--month", "2024-06"]
    found = fast.read(bench, environ={})
    assert found is not None and found[0] == "report"
    assert fast.read(bench, environ={"LEDGER_WIDTH": "60"}) is None
    assert fast.read(bench, environ={"_LEDGER_COMPLETE": "bash_source"}) is None


def test_a_plain_report_runs_without_typer_and_prints_what_the_app_prints(
        demo_ledger: Path, tmp_path: Path) -> None:
    """The demo's report through the entry point loads no typer, and prints byte for byte
    what the app prints for the same line (the app asked through a line fast.py leaves to it:
    an option given twice), in each format (a closed stdout: tests/test_closed_pipe.py)."""
    import subprocess
    import sys

    def ledger(*args: str, fast_way: bool = True) -> tuple[int, str, str, bool]:
        script = ("import sys, contextlib\nfrom ledger.cli.main import main\n"
                  f"sys.argv = ['ledger', *{list(args)!r}]\n"
                  "with contextlib.suppress(SystemExit):\n    main()\n"
                  "sys.stderr.write('typer' in sys.modules and 'TYPER' or 'none')\n")
        env = {k: v for k, v in os.environ.items() if k != "LEDGER_WIDTH"}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=120, env={**env, "COLUMNS": "100"})
        return done.returncode, done.stdout, done.stderr.removesuffix("TYPER").removesuffix(
            "none"), done.stderr.endswith("TYPER")

    for way in ("table", "json", "csv"):
        line = ["--ledger", str(demo_ledger), "report", "--month", "2024-06", "--format", way]
        plain = ledger(*line)
        assert not plain[3], way  # no typer
        app = ledger(*line[:3], "--month", "2024-05", *line[3:])  # twice: the app's way
        assert app[3], way
        assert plain[:3] == app[:3], way
    out = tmp_path / "r.txt"
    assert ledger("--ledger", str(demo_ledger), "report", "-o", str(out))[0] == 0
    assert out.read_text()


def test_month_ends_and_months_touched_as_dateutil_counts_them() -> None:
    """periods._month_end and benchmarks.months_in without dateutil: the days and counts
    relativedelta gave, over every month of 1999-2031 and spans either way."""
    from dateutil.relativedelta import relativedelta

    from ledger.core.periods import _month_end
    from ledger.reports.benchmarks import months_in

    firsts = [dt.date(y, m, 1) for y in range(1999, 2032) for m in range(1, 13)]
    for first in firsts:
        assert _month_end(first) == first + relativedelta(day=31)
    for start in firsts[::7]:
        for end in [*firsts[::11], dt.date(2024, 2, 29), dt.date(2023, 12, 31)]:
            span = relativedelta(end.replace(day=1), start.replace(day=1))
            assert months_in(start, end) == span.years * 12 + span.months + 1, (start, end)


def test_a_month_is_read_as_strptime_reads_it() -> None:
    """periods.month_start reads `--month` as datetime.strptime(text, "%Y-%m") did: the same
    day, or a ValueError for the same texts."""
    from ledger.core.periods import month_start

    texts = ["2024-06", "2024-6", "2024-12", "2024-13", "2024-00", "2024-0", "2024-1",
             "2024-10", "2024-06 ", " 2024-06", "24-06", "02024-06", "2024/06", "2024-06-01",
             "٢٠٢٤-٠٦", "0000-01", "9999-12", "2024-", "-06", "", "2024-1x", "2024-011",
             "１２３４-05", "2024--6", "abcd-ef", "2024-+6", "2024-\n6"]
    for year in (1, 999, 1000, 1999, 2024, 9999):
        texts += [f"{year:04d}-{m}" for m in ("1", "01", "9", "09", "10", "12")]
    for text in texts:
        try:
            expected: object = dt.datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            expected = ValueError
        try:
            got: object = month_start(text)
        except ValueError:
            got = ValueError
        assert got == expected, text


def test_settle_loads_what_it_is_given_and_freezes_only_as_the_program(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """process.settle imports the modules named and freezes what is loaded when `ledger` is
    the process (never in a test or a script calling main(): their objects stay collectable)."""
    import gc
    import sys

    from ledger.cli import process

    before = gc.get_freeze_count()
    process.settle("ledger.reports.views")
    assert "ledger.reports.views" in sys.modules and gc.get_freeze_count() == before
    monkeypatch.setattr(process, "ends_process", lambda: True)
    try:
        process.settle()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
