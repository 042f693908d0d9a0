"""Start-up of the everyday commands (issue 23): what was cut must change nothing.

`ledger/cli/lazy.py` coerces options without typer's pydantic adapters: every option of every
command is coerced both ways here and must give the same value or the same error. The report
path hands polars no Python Decimal (that imports numpy, ~0.13 s) and loads no pydantic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest

from tests.test_cli import import_demo


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo exports imported once through the CLI (treat as read-only)."""
    return import_demo(tmp_path_factory.mktemp("demo"))


def _options() -> list[tuple[str, object, object]]:
    """(command path, command, option) for every option the app has."""
    from typer.main import get_command

    from ledger.cli.main import app

    out = []

    def walk(command: object, path: str) -> None:
        for param in command.params:  # type: ignore[attr-defined]
            out.append((path, command, param))
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, f"{path} {name}")

    walk(get_command(app), "ledger")
    return out


def _samples(param: object, tmp: Path) -> list[object]:
    kind = param.type_descriptor.annotation  # type: ignore[attr-defined]
    values: list[object] = [None, param.default, "5", "0", "19", "20", "-3", "abc", "",  # type: ignore[attr-defined]
                            "2024-06", " 7", "1_000", "٣", str(tmp), str(tmp / "nothing"),
                            str(tmp / "file.csv"), 5, 0, tmp]
    if isinstance(kind, type) and issubclass(kind, Enum):
        values += [m for m in kind] + [m.value for m in kind] + [m.value.upper() for m in kind]
    if param.multiple or param.nargs != 1:  # type: ignore[attr-defined]
        values += [(), ("a",), ("fx", "fee"), ["x"], (str(tmp),), ("5",)]
    return values


def _outcome(runtime: object, value: object, param: object, ctx: object) -> tuple:
    try:
        return ("ok", runtime.coerce(value, param=param, ctx=ctx))  # type: ignore[attr-defined]
    except Exception as exc:  # the error itself is compared
        return ("error", type(exc).__name__, str(exc))


def test_options_coerce_as_typer_does(tmp_path: Path) -> None:
    """Each option's coercion without pydantic (lazy._AsIs) returns what typer's own does, for
    choices, text, numbers, paths that exist or not, lists, and values that fail."""
    from typer._click import Context

    from ledger.cli.lazy import _AsIs

    (tmp_path / "file.csv").write_text("x")
    checked = 0
    for path, command, param in _options():
        runtime = param.get_runtime_param()
        assert isinstance(runtime, _AsIs), (path, param.name)
        ctx = Context(command)
        typer_own = runtime.build()
        for value in _samples(param, tmp_path):
            fast = _outcome(runtime, value, param, ctx)
            slow = _outcome(typer_own, value, param, ctx)
            assert fast == slow, (path, param.name, value)
            checked += 1
    assert checked > 1000


def _run_counting_modules(args: list[str], modules: tuple[str, ...]
                          ) -> tuple[list[str], str, str]:
    """`ledger *args` in a fresh interpreter: which of `modules` it loaded, what it printed
    and its stderr."""
    script = ("import sys, contextlib, io, json\nfrom ledger.cli.main import main\n"
              f"sys.argv = ['ledger', *{args!r}]\nout = io.StringIO()\n"
              "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
              "    main()\n"
              f"print(json.dumps([sorted(m for m in {modules!r} if m in sys.modules), "
              "out.getvalue()]))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=True)
    loaded, printed = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded, printed, result.stderr


@pytest.mark.parametrize("args", [["report", "--month", "2024-06"], ["transactions"],
                                  ["reconcile", "--month", "2024-06"], ["payouts"]])
def test_everyday_commands_load_no_numpy_or_pydantic(demo_ledger: Path, args: list[str]) -> None:
    """The everyday commands import neither numpy (polars loads it for a Python Decimal) nor
    pydantic (typer's coercion): 0.1-0.3 s each of a ~1 s command."""
    loaded, _, stderr = _run_counting_modules(["--ledger", str(demo_ledger), *args],
                                              ("numpy", "pydantic"))
    assert loaded == [], stderr


def test_a_report_without_workers_leaves_payouts_unloaded_as_payouts_would(
        demo_ledger: Path) -> None:
    """Without [[workers]] or [[splits]] the report does not load ledger.payouts (~3 ms of
    imports): what its hook would give, the counted rows as they are, nothing owed, no value
    chains, is given as it is; a ledger with splits still loads it (and has them checked)."""
    from ledger import payouts
    from ledger.counting import pipeline
    from ledger.reports.report import resolve_period
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

    ledger = Ledger(demo_ledger)
    assert not ledger.settings().workers and not ledger.settings().splits
    rows = ledger.rows()
    period = resolve_period(rows, month="2024-06")
    chain = FxChain.for_ledger(rows, ledger.rates_path)
    found = pipeline.for_ledger(ledger, rows, (period.start, period.end), chain=chain)
    counted, owed, chains = payouts.for_report(ledger, rows, found.rows, period, "PKR", chain,
                                               found.journeys)
    assert counted is found.rows and owed is None and chains == []
    loaded, printed, stderr = _run_counting_modules(
        ["--ledger", str(demo_ledger), "report", "--month", "2024-06", "--format", "json"],
        ("ledger.payouts",))
    assert loaded == [], stderr
    report = json.loads(printed)
    assert report["payouts_owed_unpaid"] is None and report["value_chains"] == []


def test_user_rules_with_amounts_load_no_numpy(demo_ledger: Path, tmp_path: Path) -> None:
    """A `[[rules]]` with amount_min/amount_max compares amounts with literals built from
    text: a Python Decimal handed to polars loaded numpy, ~0.11 s of every report with such a
    rule (the bench's 20-rule case). The rule still applies: its rows change kind."""
    import shutil

    ledger = tmp_path / "ledger"
    shutil.copytree(demo_ledger, ledger)
    with (ledger / "ledger.toml").open("a") as config:
        config.write('\n[[rules]]\nid = "mid-size"\nsign = "credit"\namount_min = 1\n'
                     'amount_max = "250.50"\nset = { category = "mid" }\n')
    loaded, printed, stderr = _run_counting_modules(
        ["--ledger", str(ledger), "transactions", "--format", "json"], ("numpy",))
    assert loaded == [], stderr
    assert printed.count('"mid"') > 0, printed[-2000:]


@pytest.mark.parametrize("value", ["0", "0.015", "-2.5E-14", "123456789.123456789012345",
                                   "0.0000512345678915", "1E+3"])
@pytest.mark.parametrize("scale", [4, 12])
def test_decimal_lit_is_the_decimal_literal(value: str, scale: int) -> None:
    """decimal_lit (built from text) is polars' literal of the Decimal: same value, same
    rounding past the scale, same dtype."""
    import polars as pl

    from ledger.core.money import decimal_lit

    dtype = pl.Decimal(38, scale)
    ours = pl.select(decimal_lit(Decimal(value), dtype).alias("x"))
    theirs = pl.select(pl.lit(Decimal(value), dtype=dtype).alias("x"))
    assert ours.schema == theirs.schema
    assert ours.row(0) == theirs.row(0)


def test_a_locale_once_cached_loads_neither_babel_dates_nor_its_whole_data(
        demo_ledger: Path, tmp_path: Path) -> None:
    """The demo's locale (en_PK): the first report loads babel's whole locale data (and
    babel.dates with it, ~0.04 s) and its global data, and caches its number entries and the
    currency tables; the next one reads only those, and prints the same."""
    script = ("import sys, contextlib, io\nfrom ledger.cli.main import main\n"
              f"sys.argv = ['ledger', '--ledger', {str(demo_ledger)!r}, 'report', '--month',"
              " '2024-06']\nout = io.StringIO()\n"
              "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):"
              "\n    main()\n"
              "import babel.core\n"
              "print('babel.dates' in sys.modules, babel.core._global_data is not None,"
              " hash(out.getvalue()))\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PYTHONHASHSEED": "0"}
    first, second = (subprocess.run([sys.executable, "-c", script], capture_output=True,
                                    text=True, timeout=120, check=True, env=env).stdout.split()
                     for _ in range(2))
    from ledger.core.locale_data import CURRENCIES_FILE

    babel = [p.name for p in tmp_path.rglob("*") if p.parent.name.startswith("babel-")]
    from ledger.core.locale_fast import _file

    numbers = _file("en_PK").name  # ledger.core.locale_fast's entry
    assert sorted(babel) == sorted([CURRENCIES_FILE, "en_PK.pickle", numbers])
    assert first[:2] == ["True", "True"] and second[:2] == ["False", "False"]
    assert first[2] == second[2]
