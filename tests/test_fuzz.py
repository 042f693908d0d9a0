"""Fuzzing: every golden export, mutated, must either import to valid rows or be refused with a
clean LedgerError (a `path:line: message` and exit 1 or 2), never any other exception.

`make test` runs a short pass (FUZZ_EXAMPLES, default 60 per test); `make fuzz` runs the same
properties for as long as it is given (FUZZ_EXAMPLES large, no deadline). Mutations: a column
dropped or duplicated, the file cut at any byte, random bytes inserted, re-encoded (UTF-16,
cp1252, BOM), a huge field, formula-like cells (`=cmd|' /C calc'!A0`), lines swapped.

Hostile shapes (issue 24), each through the real CLI in a subprocess that must answer within
FUZZ_TIMEOUT seconds (default 15; a batch gets three times that), so a hang fails the run
instead of stalling it: nested-brace MT940 lines (`{1:{{}{{}...`), OFX with many `<STMTTRN>`
never closed, spreadsheets whose cells or dimension reach far (XFD1048576), amounts of 10^26
and more, and file and folder names with glob characters and newlines. These run fewer
examples (FUZZ_EXAMPLES / 20, at least 3) and do not shrink: each example costs a process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from importers import registry
from importers.base import ImportOptions
from importers.raw_files import RawFile
from ledger.core import schema
from ledger.core.errors import LedgerError
from tests.cliserver import CLIENT
from tests.conftest import TODAY, snapshot
from tests.test_cli import COMMAND, FORKED, run
from tests.test_detection import SOURCES

DATA = Path(__file__).parent / "data"
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


# --- hostile shapes (issue 24): every example must answer within FUZZ_TIMEOUT ------------------

TIMEOUT = float(os.environ.get("FUZZ_TIMEOUT", "15"))
HOSTILE = settings(max_examples=max(EXAMPLES // 20, 3), deadline=None,
                   derandomize="FUZZ_SEED" not in os.environ,
                   phases=(Phase.explicit, Phase.reuse, Phase.generate),
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.function_scoped_fixture])


def within(*args: str | Path, cwd: Path, seconds: float = TIMEOUT
           ) -> subprocess.CompletedProcess[str]:
    """`ledger ARGS` that must answer within `seconds` (a hang fails the example), with no
    traceback, no internal error and exit 0, 1 or 2."""
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DIR", "LEDGER_DEBUG")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "XDG_DATA_HOME": str(cwd / ".xdg")})
    try:
        if FORKED:  # forked from tests/cliserver.py; killed at the timeout like a process
            result = CLIENT.run(list(map(str, args)), cwd=cwd, env=env, timeout=seconds)
        else:
            result = subprocess.run([*COMMAND, *map(str, args)], cwd=cwd, env=env, text=True,
                                    encoding="utf-8", capture_output=True, timeout=seconds,
                                    check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"ledger {' '.join(map(str, args))[:200]} hung: no answer in "
                             f"{seconds:g} s") from None
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, \
        result.stderr
    assert result.returncode in (0, 1, 2), (result.returncode, result.stderr[-2000:])
    return result


def import_within(tmp_path_factory, name: str, data: bytes) -> subprocess.CompletedProcess[str]:
    cwd = tmp_path_factory.mktemp("hostile")
    (cwd / name).write_bytes(data)
    return within("--ledger", "led", "import", name, "--dry-run", cwd=cwd)


@st.composite
def nested_braces(draw) -> bytes:
    """SWIFT block headers gone wrong: `{1:{{}{{}...` of any depth and length."""
    piece = st.sampled_from(["{", "}", "{}", "{{}", "{1:", "{4:", ":20:", "-}", "\n"])
    body = "".join(draw(st.lists(piece, min_size=1, max_size=50)))
    times = draw(st.one_of(st.integers(1, 50), st.integers(1000, 5000)))
    tail = draw(st.sampled_from(["", "\n:20:REF\n:25:ACC\n:28C:1\n:60F:C240101USD0,\n-}"]))
    return ("{1:" + body * times + tail).encode()


@st.composite
def unclosed_sgml(draw) -> bytes:
    """An OFX statement whose `<STMTTRN>` (or other aggregates) are never closed."""
    text = (DATA / "ofx" / "checking-sgml.ofx").read_bytes()
    head, _, _ = text.partition(b"<STMTTRN>")
    tag = draw(st.sampled_from([b"<STMTTRN>", b"<BANKTRANLIST>", b"<STMTRS>", b"<OFX>"]))
    row = tag + b"<TRNTYPE>CREDIT<DTPOSTED>20240603<TRNAMT>1.00<FITID>1<NAME>X\n"
    tail = draw(st.sampled_from([b"</BANKTRANLIST></STMTRS></STMTTRNRS></OFX>\n", b""]))
    return head + row * draw(st.one_of(st.integers(1, 50), st.integers(1000, 5000))) + tail


@st.composite
def far_sheet(draw) -> tuple[bytes, bool]:
    """An XLSX (made with zipfile) with a cell or a dimension reaching far rows and columns,
    and whether it exceeds ledger's sheet limits."""
    from importers.sheet_limits import MAX_COLUMNS, MAX_GRID_CELLS
    from tests.test_hostile_files import sheet, text_cell

    rows, columns = 1, 1
    cells = '<row r="1">' + text_cell("A1", "Date") + "</row>"
    dimension = None
    for kind in ("cell", "dimension"):
        row, column = draw(st.integers(1, 1_048_576)), draw(st.integers(1, 16_384))
        if not draw(st.booleans()):
            continue
        rows, columns = max(rows, row), max(columns, column)
        letters = ""
        while column:
            column, rest = divmod(column - 1, 26)
            letters = chr(65 + rest) + letters
        if kind == "cell":
            cells += f'<row r="{row}"><c r="{letters}{row}"><v>1</v></c></row>'
        else:
            dimension = f"A1:{letters}{row}"
    too_large = columns > MAX_COLUMNS or rows * columns > MAX_GRID_CELLS
    return sheet(cells, dimension=dimension), too_large


@st.composite
def huge_amount(draw) -> bytes:
    """A Fiverr export (no running balance to catch it) with an amount of 10^26 or more."""
    digits = "1" + "0" * draw(st.integers(26, 60))
    cents = draw(st.sampled_from(["", ".00", ".99", ".123456789"]))
    sign = draw(st.sampled_from(["", "-"]))
    text = (DATA / "fiverr" / "earnings.csv").read_text("utf-8")
    return text.replace("-$200.00", f"{sign}${digits}{cents}", 1).encode()


NAME_CHARS = "ab[]*?{},!^\n -_.~$'\""
"""Glob and shell characters, and newlines, in file and folder names."""


@st.composite
def odd_name(draw) -> str:
    name = draw(st.text(alphabet=NAME_CHARS, min_size=1, max_size=12))
    return "w" + name  # never empty, never hidden, never "." or ".."



BRACES = b"{1:" + b"{{}" * 3000 + b"\n:20:X\n"
"""The reported shape: 9 KB that kept detection busy for minutes."""
UNCLOSED = (DATA / "ofx" / "checking-sgml.ofx").read_bytes().partition(b"<STMTTRN>")[0] + (
    b"<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240603<TRNAMT>1.00<FITID>1<NAME>X\n" * 3000
    + b"</BANKTRANLIST></STMTRS></STMTTRNRS></OFX>\n")
"""The reported shape: 3,000 `<STMTTRN>` never closed in a statement that ends properly."""


@HOSTILE
@given(nested_braces())
@example(BRACES)
def test_nested_brace_lines_answer_in_time(tmp_path_factory, data):
    import_within(tmp_path_factory, "braces.sta", data)


@HOSTILE
@given(unclosed_sgml())
@example(UNCLOSED)
def test_unclosed_sgml_tags_answer_in_time(tmp_path_factory, data):
    import_within(tmp_path_factory, "unclosed.ofx", data)


@HOSTILE
@given(far_sheet())
def test_far_reaching_sheets_are_refused_not_fatal(tmp_path_factory, case):
    data, too_large = case
    result = import_within(tmp_path_factory, "far.xlsx", data)
    assert result.returncode == 1  # one header cell is no statement, far-reaching or not
    assert result.stderr.startswith("far.xlsx: the sheet is too large") == too_large, \
        result.stderr


@HOSTILE
@given(huge_amount())
def test_huge_amounts_are_refused_or_reported(tmp_path_factory, data):
    cwd = tmp_path_factory.mktemp("hostile")
    (cwd / "earnings.csv").write_bytes(data)
    imported = within("--ledger", "led", "import", "earnings.csv", cwd=cwd)
    if imported.returncode == 0:
        within("--ledger", "led", "report", "--format", "json", cwd=cwd)


@HOSTILE
@given(odd_name(), odd_name())
def test_odd_names_lose_no_rows(tmp_path_factory, folder, file):
    """A worker folder and an export named with glob characters and newlines: the batch reads
    every row of it, and `ledger import` reads the file by its name."""
    import csv

    import polars as pl

    cwd = tmp_path_factory.mktemp("hostile")
    (cwd / "in" / folder).mkdir(parents=True)
    (cwd / "in" / "plain").mkdir()
    shutil.copy(DATA / "fiverr" / "earnings.csv", cwd / "in" / folder / f"{file}.csv")
    shutil.copy(DATA / "fiverr" / "earnings.csv", cwd / "in" / "plain" / "earnings.csv")
    batch = within("batch", "in", "--out", "out", "--k", "1", "--jobs", "1", cwd=cwd,
                   seconds=3 * TIMEOUT)
    assert batch.returncode == 0, batch.stderr
    assert list(csv.reader((cwd / "out" / "errors.csv").open())) == [
        ["pseudonym", "file", "line", "code", "error", "hint"]]
    panel = pl.read_parquet(cwd / "out" / "panel" / "**" / "*.parquet")
    assert panel["pseudonym"].n_unique() == 2
    by_worker = panel.group_by("pseudonym").agg(pl.col("gross_usd").sum())["gross_usd"]
    assert by_worker.n_unique() == 1  # the odd-named worker's rows all counted
    shutil.copy(DATA / "fiverr" / "earnings.csv", cwd / f"{file}.csv")
    imported = within("--ledger", "led", "import", f"{file}.csv", cwd=cwd)
    assert imported.returncode == 0, imported.stderr
