"""Fuzzing: every golden export, mutated, must either import to valid rows or be refused with a
clean LedgerError (a `path:line: message` and exit 1 or 2), never any other exception.

`make test` runs a short pass (FUZZ_EXAMPLES, default 60 per test); `make fuzz` runs the same
properties for as long as it is given (FUZZ_EXAMPLES large, no deadline). Mutations: a column
dropped or duplicated, the file cut at any byte, random bytes inserted, re-encoded (UTF-16,
cp1252, BOM), a huge field, formula-like cells (`=cmd|' /C calc'!A0`), lines swapped.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers import registry
from importers.base import ImportOptions
from importers.readers import RawFile
from ledger import schema
from ledger.errors import LedgerError
from tests.conftest import TODAY, snapshot
from tests.test_cli import run
from tests.test_detection import SOURCES

TEXT_SOURCES = [p for p in SOURCES if p.suffix.lower() not in (".xlsx", ".xls")]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="FUZZ_SEED" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

FORMULAS = ("=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@HYPERLINK(\"x\")", "=1/0")


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _cells(line: bytes) -> list[bytes]:
    return line.split(b",")


@st.composite
def mutated(draw) -> tuple[Path, bytes]:
    path = draw(st.sampled_from(TEXT_SOURCES))
    data = path.read_bytes()
    kind = draw(st.sampled_from(["cut", "insert", "drop_column", "dup_column", "encode",
                                 "huge_field", "formula", "swap_lines", "flip_byte"]))
    lines = _lines(data)
    if kind == "cut":
        data = data[:draw(st.integers(0, len(data)))]
    elif kind == "insert":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=40)) + data[at:]
    elif kind in ("drop_column", "dup_column"):
        width = max(len(_cells(line)) for line in lines)
        col = draw(st.integers(0, max(width - 1, 0)))
        out = []
        for line in lines:
            cells = _cells(line)
            if col < len(cells):
                if kind == "drop_column":
                    del cells[col]
                else:
                    cells.insert(col, cells[col])
            out.append(b",".join(cells))
        data = b"\n".join(out)
    elif kind == "encode":
        text = data.decode("utf-8", "replace")
        encoding = draw(st.sampled_from(["utf-16", "utf-8-sig", "cp1252", "latin-1"]))
        data = text.encode(encoding, "replace")
    elif kind in ("huge_field", "formula"):
        row = draw(st.integers(0, max(len(lines) - 1, 0)))
        cells = _cells(lines[row]) if lines else [b""]
        col = draw(st.integers(0, max(len(cells) - 1, 0)))
        cells[col] = (b"9" * draw(st.integers(1000, 200_000)) if kind == "huge_field"
                      else draw(st.sampled_from(FORMULAS)).encode())
        lines[row] = b",".join(cells)
        data = b"\n".join(lines)
    elif kind == "swap_lines" and len(lines) > 2:
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
        data = b"\n".join(lines)
    elif kind == "flip_byte" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    return path, data


def parse_bytes(path: Path, data: bytes):
    import hashlib

    raw = RawFile(path=Path(path.name), data=data, sha256=hashlib.sha256(data).hexdigest())
    return registry.parse(raw, ImportOptions(today=TODAY))


@FUZZ
@given(mutated())
def test_mutated_exports_import_cleanly_or_are_refused_cleanly(case):
    path, data = case
    try:
        parsed = parse_bytes(path, data)
    except LedgerError as exc:
        assert exc.exit_code in (1, 2)
        assert exc.message and "Traceback" not in exc.message
        return
    schema.validate(parsed.rows, path.name)  # accepted rows are valid canonical rows


@settings(max_examples=max(EXAMPLES // 10, 5), deadline=None,
          derandomize="FUZZ_SEED" not in os.environ,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(mutated())
def test_through_the_cli_no_traceback_and_nothing_written_on_failure(tmp_path_factory, case):
    path, data = case
    cwd = tmp_path_factory.mktemp("fuzz")
    ledger = cwd / "led"
    seed = TEXT_SOURCES[0]
    shutil.copy(seed, cwd / ("seed" + seed.suffix))
    run("--ledger", "led", "import", "seed" + seed.suffix, cwd=cwd)
    before = snapshot(ledger)
    (cwd / path.name).write_bytes(data)
    result = run("--ledger", "led", "import", path.name, cwd=cwd)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, \
        result.stderr
    if result.returncode == 0:
        report = run("--ledger", "led", "report", "--format", "json", cwd=cwd)
        assert "Traceback" not in report.stderr and "internal error" not in report.stderr, \
            report.stderr
        assert report.returncode in (0, 1), report.stderr
    else:
        assert result.returncode in (1, 2)
        assert result.stderr.startswith((path.name, "error:")), result.stderr
        assert "\n  hint: " in result.stderr or result.stderr.count("\n") == 1, result.stderr
        assert snapshot(ledger) == before
