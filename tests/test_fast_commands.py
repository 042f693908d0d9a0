"""The typer-free start of plain everyday command lines (ledger/cli/fast.py) gives what the
app gives: `payouts` read as typer reads it, and printed byte for byte as the app prints it."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import product
from pathlib import Path

import pytest

from tests.test_payouts import contractor


def _read_as_typer(monkeypatch: pytest.MonkeyPatch, name: str,
                   lines: list[list[str]], function: str | None = None,
                   positional: str | None = None) -> int:
    """How many of `lines` fast.py reads as command `name`; for each of them the global
    options and the arguments must be exactly what the app's own parsing hands the same
    `<name>_cmd.<function>` (default: `name`; `positional`, the name of the argument the app
    passes by position), lines fast.py leaves to the app skipped."""
    import importlib

    from ledger.cli import fast
    from ledger.cli.commands import app
    from ledger.cli.common import STATE
    from ledger.cli.lazy import for_args

    module = importlib.import_module(f"ledger.cli.{name}_cmd")
    calls: list[tuple[dict, dict]] = []

    def record(*given: object, **options: object) -> None:
        named = dict(zip([positional], given, strict=True)) if positional else {}
        calls.append((dict(STATE), {**named, **options}))

    monkeypatch.setattr(module, function or name, record)
    read = 0
    for args in lines:
        found = fast.read(args, environ={})
        if found is None:
            continue
        command, state, options = found
        assert command == name, args
        read += 1
        calls.clear()
        saved = dict(STATE)
        try:
            for_args(app, args)(args=args, standalone_mode=False)
        finally:
            STATE.update(saved)
        assert calls == [(state, options)], args
    return read


def _payouts_lines(tmp: Path) -> list[list[str]]:
    """`payouts` command lines, plain and not: each option in the spellings click reads,
    values typer takes and values it refuses, and the group's subcommands."""
    unreadable = tmp / "locked"
    unreadable.mkdir()
    unreadable.chmod(0)
    heads = [[], ["--ledger", str(tmp)], [f"--ledger={tmp}"], ["--width", "60"],
             ["--width", "19"], ["--debug"], ["--ledger", str(unreadable)], ["-h"]]
    tails = [[], ["--month", "2024-06"], ["--month=2024-06"], ["--month"], ["--month", ""],
             ["--year", "2024"], ["--year", "20x4"], ["--year", "+5"],
             ["--from", "2024-03-15", "--to", "2024-08-10"], ["--currency", "usd"],
             ["--format", "json"], ["--format=csv"], ["--format", "html"],
             ["--format", "table"], ["--format", "JSON"], ["-o", str(tmp / "out.txt")],
             [f"--output={tmp / 'p.csv'}"], ["-o", str(unreadable)], ["--online"],
             ["--online=yes"], ["--tax-year", "2024"], ["--month", "2024-06", "--month",
                                                           "2024-07"],
             ["--help"], ["record"], ["list"], ["statement", "Ali"], ["--month", "2024-06",
                                                                      "list"],
             ["extra"], ["--month", "2024-06", "--year", "2024", "--online"]]
    lines = [[*head, "payouts", *tail] for head, tail in product(heads, tails)]
    return [*lines, ["payouts", "payouts"], ["report", "payouts"], ["payouts", "report"]]


def test_a_plain_payouts_line_is_read_as_typer_reads_it(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """For every `payouts` line fast.py reads, the global options and the arguments are
    exactly what the app's own parsing hands the same `payouts_cmd.payouts`; lines it does
    not read (help, subcommands, errors) are left to the app. The bench's line is read."""
    from ledger.cli import fast

    assert _read_as_typer(monkeypatch, "payouts", _payouts_lines(tmp_path)) > 60
    bench = ["--ledger", str(tmp_path), "payouts"]
    found = fast.read(bench, environ={})
    assert found is not None and found[0] == "payouts"
    assert fast.read(bench, environ={"LEDGER_WIDTH": "60"}) is None


def _transactions_lines(tmp: Path) -> list[list[str]]:
    """`transactions` command lines, plain and not: repeatable options given once, twice
    and in both spellings, values typer takes and values it refuses."""
    heads = [[], ["--ledger", str(tmp)], ["--width", "60"], ["--debug"], ["-h"]]
    tails = [[], ["--month", "2024-06"], ["--month=2024-06"], ["--month"],
             ["--from", "2024-03-15", "--to", "2024-08-10"], ["--kind", "earning"],
             ["--kind", "earning", "--kind=platform_fee"], ["--kind", "Earning", "--source",
                                                            "PayPal", "--source", "upwork"],
             ["--kind"], ["--kind", "-x"], ["--source="], ["--unclassified"],
             ["--unclassified=1"], ["--format", "json"], ["--format=csv"],
             ["--format", "html"], ["--limit", "0"], ["--limit", "5"], ["--limit", "-1"],
             ["--limit", "x"], ["--limit", "5", "--limit", "6"], ["-o", str(tmp / "t.csv")],
             ["--output", str(tmp / "t.json"), "--format", "json"], ["--month", "2024-06",
                                                                       "--month", "2024-07"],
             ["--help"], ["extra"], ["--year", "2024"], ["--currency", "USD"]]
    return [[*head, "transactions", *tail] for head, tail in product(heads, tails)]


def test_a_plain_transactions_line_is_read_as_typer_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """For every `transactions` line fast.py reads, the global options and the arguments
    (repeated --kind and --source as lists, in order) are exactly what the app's own parsing
    hands the same `transactions_cmd.transactions`; other lines are left to the app."""
    assert _read_as_typer(monkeypatch, "transactions", _transactions_lines(tmp_path)) > 50


def _reconcile_lines(tmp: Path) -> list[list[str]]:
    """`reconcile` command lines, plain and not, and its subcommands."""
    heads = [[], ["--ledger", str(tmp)], ["--width", "60"], ["--debug"]]
    tails = [[], ["--month", "2024-06"], ["--month=2024-06"], ["--month"],
             ["--from", "2024-03-15", "--to", "2024-08-10"], ["--as-of", "2024-07-01"],
             ["--as-of=someday"], ["--format", "json"], ["--format=csv"], ["--format", "html"],
             ["-o", str(tmp / "c.txt")], ["--output", str(tmp / "c.csv"), "--format", "csv"],
             ["--online"], ["--online=1"], ["--month", "2024-06", "--month", "2024-07"],
             ["--help"], ["link", "a", "b"], ["unlink", "a"], ["--month", "2024-06", "link"],
             ["extra"], ["--year", "2024"]]
    return [[*head, "reconcile", *tail] for head, tail in product(heads, tails)]


def test_a_plain_reconcile_line_is_read_as_typer_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """For every `reconcile` line fast.py reads, the global options and the arguments are
    exactly what the app's own parsing hands the same `reconcile_cmd.reconcile`; lines it does
    not read (help, link, unlink, errors) are left to the app."""
    assert _read_as_typer(monkeypatch, "reconcile", _reconcile_lines(tmp_path)) > 40


def _ledger(*args: str) -> tuple[int, str, str, bool]:
    """`ledger ARGS` through the entry point in a fresh interpreter: exit code, stdout,
    stderr and whether typer was loaded."""
    script = ("import sys\nfrom ledger.cli.main import main\n"
              f"sys.argv = ['ledger', *{list(args)!r}]\ncode = 0\n"
              "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
              "sys.stderr.write('typer' in sys.modules and 'TYPER' or 'none')\n"
              "sys.exit(code)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_WIDTH", "LEDGER_DIR")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**env, "COLUMNS": "100"})
    return done.returncode, done.stdout, done.stderr.removesuffix("TYPER").removesuffix(
        "none"), done.stderr.endswith("TYPER")


def test_a_plain_payouts_runs_without_typer_and_prints_what_the_app_prints(
        tmp_path: Path) -> None:
    """A contractor's payouts through the entry point load no typer and print byte for byte
    what the app prints for the same line (the app asked through a line fast.py leaves to
    it: an option given twice), in each format and to a file."""
    root = contractor(tmp_path)
    for way in ("table", "json", "csv"):
        line = ["--ledger", str(root), "payouts", "--month", "2024-06", "--format", way]
        plain = _ledger(*line)
        assert not plain[3], way  # no typer
        app = _ledger(*line[:3], "--month", "2024-05", *line[3:])  # twice: the app's way
        assert app[3], way
        assert plain[:3] == app[:3], way
        assert plain[0] == 0 and plain[1], way
    outputs = []
    for extra in ([], ["--year", "2023"]):  # the same year either way: --year given once
        out = tmp_path / f"p{len(extra)}.txt"
        line = ["--ledger", str(root), "payouts", "--year", "2024", *extra, "-o", str(out)]
        done = _ledger(*line)
        assert done[0] == 0 and done[3] == bool(extra), extra
        outputs.append(out.read_text())
    assert outputs[0] and outputs[0] != outputs[1]  # 2024 against 2023: a real comparison
    same = _ledger("--ledger", str(root), "payouts", "--year", "2024", "--year", "2024",
                   "-o", str(tmp_path / "again.txt"))
    assert same[3] and (tmp_path / "again.txt").read_text() == outputs[0]


def test_lit_escapes_as_rich_markup_escape_does() -> None:
    """render.report.lit copies rich.markup.escape's rules (so that a report need not import
    rich.markup): the same text for strings of brackets, backslashes and tag-like words, every
    one of up to five characters from those most likely to differ, plus longer ones."""
    from itertools import product as words

    from rich.markup import escape

    from ledger.render.report import lit

    alphabet = "[]\\a/#@ ="
    cases = ["", "[[rules]]", "say what they are with [[rules]] in ledger.toml",
             "C:\\path\\", "a\\\\", "[bold]x[/]", "\\[red]", "\\\\[red]", "[a][b]", "[A]",
             "[1]", "[@click]", "[#fff]", "x [/] y\\", "[[hours]] \\[[x]]"]
    cases += ["".join(w) for n in range(1, 6) for w in words(alphabet, repeat=n)]
    for text in cases:
        assert lit(text) == escape(text), text
    assert lit(7) == "7" and lit(Path("a[b]")) == escape("a[b]")


def test_benchmarks_for_a_country_are_what_polars_picks() -> None:
    """benchmarks.for_country (csv module, Python) gives pick(table(...)) (polars): the same
    rows, order and values for every country of the table (and one it lacks), years before,
    within and after it, with and without the user's [[benchmarks]] (one of a year the
    bundled rows have, per month and per year, one with no year); a user's entry lacking a
    field is refused the same way; a year that is not plainly a number goes to polars."""
    from ledger.core.errors import UsageError
    from ledger.reports import benchmarks

    countries = [*sorted({row["country_iso2"] for row in benchmarks.table_rows()}), "XX"]
    users: list[list[dict]] = [
        [], [{"name": "own_wage", "amount": "60000", "currency": "pkr", "period": "month"}],
        [{"name": "minimum_wage", "amount": "1", "currency": "PKR", "period": "year",
          "year": 2024, "country": "pk"},
         {"name": "minimum_wage", "amount": "2", "currency": "PKR", "period": "month",
          "year": "2024", "country": "PK", "source": "me", "url": "https://x"},
         {"name": "aa", "amount": "3", "currency": "USD", "period": "hour", "country": "US"}]]
    for user in users:
        for country in countries:
            for year in (1990, 2012, 2016, 2019, 2022, 2023, 2024, 2025, 2040):
                fast = benchmarks.for_country(user, country, year)
                slow = benchmarks.pick(benchmarks.table(user, country), country, year)
                assert fast == slow, (user, country, year)
                assert [list(r) for r in fast] == [list(r) for r in slow]
    assert benchmarks.for_country(users[1], "PK", 2024) != benchmarks.for_country([], "PK", 2024)
    odd = [{"name": "x", "amount": "1", "currency": "PKR", "period": "month", "year": "20 24"}]
    with pytest.raises(Exception) as slow_error:
        benchmarks.pick(benchmarks.table(odd, "PK"), "PK", 2024)
    with pytest.raises(type(slow_error.value)):
        benchmarks.for_country(odd, "PK", 2024)
    for entry in ([{"name": "x"}], [{"amount": "1", "currency": "PKR", "period": "month"}]):
        with pytest.raises(UsageError) as fast_refusal:
            benchmarks.for_country(entry, "PK", 2024)
        with pytest.raises(UsageError) as slow_refusal:
            benchmarks.table(entry, "PK")
        assert str(fast_refusal.value) == str(slow_refusal.value)


def test_babels_version_is_read_as_babel_says_it(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """locale_data.babel_version reads babel's __version__ without importing babel: the
    version babel itself gives; a babel whose text does not say it plainly is imported."""
    import babel

    from ledger.core import locale_data

    monkeypatch.delitem(sys.modules, "babel")
    assert locale_data.babel_version() == babel.__version__
    assert "babel" not in sys.modules
    fake = tmp_path / "babel"
    fake.mkdir()
    (fake / "__init__.py").write_text("__version__ = VERSION\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "babel", None)  # a stand-in import: not the real one
    monkeypatch.delitem(sys.modules, "babel")
    imported: list[str] = []
    real_import = __import__

    def spy(name: str, *args: object, **kwargs: object) -> object:
        if name == "babel":
            imported.append(name)
            return babel
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("builtins.__import__", spy)
    assert locale_data.babel_version() == babel.__version__
    assert imported == ["babel"]


def test_a_plain_transactions_runs_without_typer_and_prints_what_the_app_prints(
        tmp_path: Path) -> None:
    """A contractor's rows through the entry point load no typer and print byte for byte
    what the app prints for the same line (the app asked through an option given twice),
    in each format, filtered by kinds and sources, and the unclassified rows."""
    root = contractor(tmp_path)
    tails = [["--format", "table"], ["--format", "json"], ["--format", "csv"],
             ["--kind", "earning", "--kind", "platform_fee", "--limit", "3"],
             ["--source", "upwork", "--format", "csv"], ["--unclassified"]]
    for tail in tails:
        line = ["--ledger", str(root), "transactions", "--month", "2024-06", *tail]
        plain = _ledger(*line)
        assert not plain[3], tail  # no typer
        app = _ledger(*line[:3], "--month", "2024-05", *line[3:])  # twice: the app's way
        assert app[3], tail
        assert plain[:3] == app[:3], tail
        assert plain[0] == 0, tail


def test_a_plain_reconcile_runs_without_typer_and_prints_what_the_app_prints(
        tmp_path: Path) -> None:
    """A contractor's chains (Upwork to NayaPay) through the entry point load no typer and
    print byte for byte what the app prints for the same line, in each format and to a
    file; a date --as-of is not is refused the same way."""
    root = contractor(tmp_path)
    out = tmp_path / "chains.txt"
    tails = [[], ["--format", "json"], ["--format", "csv"], ["--as-of", "2024-08-01"],
             ["--as-of", "soon"], ["-o", str(out)]]
    for tail in tails:
        line = ["--ledger", str(root), "reconcile", "--month", "2024-06", *tail]
        plain = _ledger(*line)
        written = out.read_text() if out.exists() else None
        assert not plain[3], tail  # no typer
        app = _ledger(*line[:3], "--month", "2024-05", *line[3:])  # twice: the app's way
        assert app[3], tail
        assert plain[:3] == app[:3], tail
        assert written == (out.read_text() if out.exists() else None), tail
        assert plain[0] == (2 if "soon" in tail else 0), (tail, plain[2])
    assert out.read_text()
