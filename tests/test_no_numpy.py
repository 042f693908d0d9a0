"""No everyday command imports numpy (issue 23): a Python Decimal handed to polars
(`pl.DataFrame` of Decimals, `pl.lit(Decimal)`, `replace_strict` to Decimals) makes polars load
it, ~0.1 s CPU of a ~0.2 s command. Literals and tables are built from text and cast
(ledger.core.money.decimal_lit).

The commands run in a fresh interpreter on a small five-year ledger (bench/gen_five.py: six
sources, a worker and a split, Fiverr's net-of-fee earnings whose gross the fee rules derive),
once with its Fiverr export and once without (so a site behind the derivation is reached too),
and on the demo (no workers). tests/test_startup.py checks the demo's four everyday commands
for pydantic as well."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import import_demo

COMMANDS = [["report", "--month", "2024-06"], ["report", "--year", "2024", "--format", "json"],
            ["payouts"], ["payouts", "--format", "json"], ["reconcile", "--month", "2024-06"],
            ["transactions"], ["fees", "--year", "2024"],
            ["export", "--format", "hledger", "--year", "2024"],
            ["export", "--format", "csv", "--month", "2024-06"]]


def _five(folder: Path, fiverr: bool) -> Path:
    """A small five-year ledger (60 rows a source), with or without its Fiverr export."""
    import polars as pl

    from bench import gen_five
    from importers.base import ImportOptions
    from ledger.store.directory import Ledger

    sizes = gen_five.SIZES
    gen_five.SIZES = {k: 60 for k in sizes}
    try:
        files = gen_five.write_five(folder / "exports")
    finally:
        gen_five.SIZES = sizes
    if not fiverr:
        files = [f for f in files if "fiverr" not in f.name.lower()]
    root = folder / "ledger"
    root.mkdir()
    (root / "ledger.toml").write_text(gen_five.LEDGER_TOML)
    Ledger(root).import_files(files, ImportOptions(today=dt.date(2026, 1, 15)))
    net = pl.read_parquet(root / "ledger.parquet").filter(pl.col("category") == "net_of_fee")
    assert (net.height > 0) == fiverr  # the derivation is reached, or not
    return root


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {"five": _five(tmp_path_factory.mktemp("five"), fiverr=True),
            "five-no-fiverr": _five(tmp_path_factory.mktemp("five-nf"), fiverr=False),
            "demo": import_demo(tmp_path_factory.mktemp("demo"))}


def _numpy_loaded(ledger: Path, args: list[str]) -> tuple[bool, str, str]:
    """`ledger --ledger LEDGER *args` run in-process in a fresh interpreter: whether numpy
    was imported by the end, what it printed, and its stderr."""
    script = ("import sys, contextlib, io, json\nfrom ledger.cli.main import main\n"
              f"sys.argv = ['ledger', '--ledger', {str(ledger)!r}, *{args!r}]\n"
              "out = io.StringIO()\n"
              "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
              "    main()\n"
              "print(json.dumps(['numpy' in sys.modules, out.getvalue()]))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=True)
    loaded, printed = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded, printed, result.stderr


@pytest.mark.parametrize("name", ["five", "five-no-fiverr", "demo"])
def test_everyday_commands_import_no_numpy(ledgers: dict[str, Path], name: str) -> None:
    """Each command, on each ledger, prints something and leaves numpy unloaded."""
    for args in COMMANDS:
        loaded, printed, stderr = _numpy_loaded(ledgers[name], args)
        assert printed.strip(), (name, args, stderr[-2000:])
        assert not loaded, (name, args, stderr[-2000:])
