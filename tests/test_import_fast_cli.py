"""`ledger import` with plain options runs without typer (ledger/cli/fast.py): every line it
reads gives `import_cmd.import_files` exactly what the app's own parsing gives, and the
import prints, writes and refuses byte for byte as the app does."""

from __future__ import annotations

import os
from itertools import product
from pathlib import Path

import pytest

from ledger.core.demo import EXPORTS, OPTIONS, demo_dir
from tests.test_fast_commands import _ledger, _read_as_typer

DEMO = [str(demo_dir() / name) for name in EXPORTS if name not in OPTIONS]
"""The demo's exports one command imports: not those it reads with options of their own
(the Payoneer export, whose dates prove no order)."""


def _lines(tmp: Path) -> list[list[str]]:
    """`import` lines, plain and not: files that exist or not, directories, unreadable ones,
    each option in the spellings click reads, values typer takes and values it refuses."""
    locked = tmp / "locked.csv"
    locked.write_text("x")
    locked.chmod(0)
    a, b = tmp / "a.csv", tmp / "b.csv"
    a.write_text("x")
    heads = [[], ["--ledger", str(tmp)], [f"--ledger={tmp}"], ["--width", "60"], ["--debug"],
             ["-h"]]
    files = [[str(a)], [str(a), str(b), str(tmp / "none.csv")], [str(tmp)], [], [""],
             [str(locked)] if os.access(locked, os.R_OK) is False else [], ["-"],
             ["import"], ["report"]]
    tails = [[], ["--source", "upwork"], ["--source=paypal"], ["--source"], ["--source", ""],
             ["--account", "upwork-2"], ["--date-order", "dmy"], ["--decimal-mark", ","],
             ["--dry-run"], ["--dry-run=1"], ["--format", "json"], ["--format=table"],
             ["--format", "csv"], ["--format", "JSON"], ["--source", "a", "--source", "b"],
             ["--help"], ["--ledger", str(tmp)], ["--", "-x.csv"], [str(b)],
             ["--account", "x", str(b), "--dry-run"]]
    return [[*head, "import", *middle, *tail]
            for head, middle, tail in product(heads, files, tails)]


def test_a_plain_import_line_is_read_as_typer_reads_it(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """For every `import` line fast.py reads, the global options and the arguments (the
    files in order, as Paths) are exactly what the app's parsing hands the same
    `import_cmd.import_files`; lines it does not read are left to the app."""
    from ledger.cli import fast

    lines = _lines(tmp_path)
    read = _read_as_typer(monkeypatch, "import", lines, "import_files", "paths")
    left = len(lines) - read
    assert read > 250 and left > 300
    assert fast.read(["import", "x.csv"], environ={"LEDGER_WIDTH": "60"}) is None
    assert fast.read(["import"], environ={}) is None  # no file: typer says so


def _parts(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_a_plain_import_runs_without_typer_and_does_what_the_app_does(tmp_path: Path) -> None:
    """The demo's exports imported through the entry point load no typer and print what the
    app prints for the same line (the app asked through an option given twice), in each
    format, dry or not; the ledgers they write hold the same rows; a broken file is refused
    with the same message and exit code."""
    import polars as pl

    for tail in (["--format", "json"], ["--format", "table"], ["--dry-run"]):
        plain_root, app_root = tmp_path / f"plain{len(tail)}{tail[-1]}", \
            tmp_path / f"app{len(tail)}{tail[-1]}"
        plain = _ledger("--ledger", str(plain_root), "import", *DEMO, *tail)
        app = _ledger("--ledger", str(app_root), "import", *DEMO, *tail, *tail)
        assert not plain[3] and app[3], tail
        assert plain[0] == app[0] == 0, (tail, plain[2])
        assert plain[1].replace(str(plain_root), "LEDGER") == \
            app[1].replace(str(app_root), "LEDGER"), tail
        assert plain[2] == app[2], tail
        if "--dry-run" not in tail:
            mine, theirs = _parts(plain_root), _parts(app_root)
            assert mine.keys() == theirs.keys() and mine, tail
            for name in mine:
                assert pl.read_parquet(plain_root / name).equals(
                    pl.read_parquet(app_root / name)), (tail, name)
    broken = tmp_path / "statements_broken.csv"
    upwork = next(Path(p) for p in DEMO if Path(p).name.startswith("statements_"))
    lines = upwork.read_text().splitlines()
    broken.write_text("\n".join([*lines[:3], lines[3] + ",extra", *lines[4:]]) + "\n")
    plain = _ledger("--ledger", str(tmp_path / "b1"), "import", str(broken))
    app = _ledger("--ledger", str(tmp_path / "b2"), "import", str(broken), "--dry-run",
                  "--dry-run")
    assert not plain[3] and app[3]
    assert plain[0] == app[0] == 1 and plain[1] == app[1] == ""
    assert plain[2] == app[2] and "more than the header's" in plain[2], plain[2]
