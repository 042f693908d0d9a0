"""Hostile and unlucky input (issue 24): nothing a file holds reaches a batch's outputs, no
input hangs or kills the process, a stray byte is never read silently.

Every hostile file is built here: CSVs and OFX with a canary in each field, a bank profile with
a backtracking regex, FIFOs and devices, and XLSX files made with zipfile (a cell at
XFD1048576, a huge dimension, a 200 KiB text, a zip that expands past the limit). Commands
run in a new process (forked, tests/cliserver.py) with a short timeout, so a hang fails the
test instead of stalling it.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import polars as pl
import pytest

from importers import registry, sheet_limits
from importers.raw_files import RawFile, read_regular
from ledger.batch.errors import BY_CODE, CLASSES, classify_message
from ledger.core.errors import DataError
from tests.cliserver import CLIENT
from tests.test_bank import GOOD as GOOD_PROFILE
from tests.test_bank import HBL, XLSX_PARTS
from tests.test_cli import COMMAND, FORKED

DATA = Path(__file__).parent / "data"
CANARY = "zqxcanary"
SECONDS = 30
"""A generous ceiling for one command (each answers in ~1-3 s; a hang would take hours)."""


def run_quick(*args: str | Path, cwd: Path, seconds: float = SECONDS
              ) -> subprocess.CompletedProcess[str]:
    """`ledger ARGS`, failing the test (not hanging it) if it takes longer than `seconds`."""
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DIR", "LEDGER_DEBUG")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "XDG_DATA_HOME": str(cwd / ".xdg")})
    before = _children_cpu()
    try:
        if FORKED:  # forked from tests/cliserver.py; killed at the timeout like a process
            result = CLIENT.run(list(map(str, args)), cwd=cwd, env=env, timeout=seconds)
        else:
            result = subprocess.run([*COMMAND, *map(str, args)], cwd=cwd, env=env, text=True,
                                    capture_output=True, encoding="utf-8", timeout=seconds,
                                    check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"ledger {' '.join(map(str, args))} did not answer in {seconds} s")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1, 2), (result.returncode, result.stderr)
    result.cpu = _children_cpu() - before  # type: ignore[attr-defined]
    return result


def _children_cpu() -> float:
    """CPU seconds used by finished child processes (forked ones included): unlike wall time,
    not stretched by a busy machine."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + CLIENT.cpu


def sheet(cells: str, *, dimension: str | None = None, parts: dict[str, str] | None = None,
          compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A one-sheet XLSX whose sheetData is `cells` (raw XML), built with zipfile (fixed
    timestamps: the same arguments give the same bytes)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    xml = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           f"{dim}<sheetData>{cells}</sheetData></worksheet>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, text in {**XLSX_PARTS, "xl/worksheets/sheet1.xml": xml,
                           **(parts or {})}.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, text)
    return buffer.getvalue()


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


FAR_CELL = ('<row r="1">' + text_cell("A1", f"Date {CANARY}") + "</row>"
            '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
"""2 KB: calamine would allocate 16,384 x 1,048,576 cells and abort the process."""


def test_the_catalogues_far_cell_sheet_is_what_the_builder_makes():
    """tests/data/broken/sheet-far-cell.xlsx (tests/test_errors_catalogue.py) is `sheet`'s."""
    far = ('<row r="1">' + text_cell("A1", "Date") + "</row>"
           '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    assert (DATA / "broken" / "sheet-far-cell.xlsx").read_bytes() == sheet(far)


# --- 2. errors.csv, the summary and the terminal never carry a file's text --------------------

def hostile_worker(folder: Path) -> None:
    """A worker whose every file fails, each with the canary in the field the error is about."""
    folder.mkdir(parents=True)
    (folder / "country.txt").write_text(f"{CANARY} D'SOUZA\n")
    (folder / "kyc.csv").write_text(
        f'"Account Title","MUHAMMAD D\'SOUZA {CANARY}","Account No","0123-4567-8901-23",'
        f'"Mobile","+92 300 {CANARY}"\n"x","y"\n', "utf-8")
    ofx = (DATA / "ofx" / "checking-sgml.ofx").read_bytes()
    for name, old, new in (
            ("accttype.ofx", b"<ACCTTYPE>CHECKING", b"<ACCTTYPE>MUHAMMAD D'SOUZA +92 300 "),
            ("trntype.ofx", b"<TRNTYPE>DEBIT", b"<TRNTYPE>\"D'SOUZA\" "),
            ("dtposted.ofx", b"<DTPOSTED>20240605", b"<DTPOSTED>D'SOUZA \""),
            ("trnamt.ofx", b"<TRNAMT>-12.40", b"<TRNAMT>'\"")):
        assert old in ofx
        (folder / name).write_bytes(ofx.replace(old, new + CANARY.encode(), 1))
    bad = (DATA / "broken" / "bad-amount-paypal.csv").read_text("utf-8-sig")
    (folder / "amount.csv").write_text(bad.replace("4O0.00", f"\"\"'{CANARY}'\"\""))
    date = (DATA / "broken" / "bad-date-upwork.csv").read_text("utf-8-sig")
    first_date = date.splitlines()[1].split('"')[1]
    (folder / "date.csv").write_text(date.replace(first_date, f"{CANARY} D'SOUZA", 1))
    mt940 = (DATA / "broken" / "mt940-bad-line.sta").read_text("utf-8")
    (folder / "bad.sta").write_text(mt940.replace(":61:260510D51.57FMSCNONREF",
                                                  f":61:{CANARY}'\"D51.57", 1))
    (folder / "head.xlsx").write_bytes(sheet('<row r="1">' + text_cell(
        "A1", f"MUHAMMAD D&apos;SOUZA &quot;{CANARY}&quot;") + "</row>"))
    (folder / "far.xlsx").write_bytes(sheet(FAR_CELL))


def test_no_byte_of_a_hostile_file_reaches_any_output_of_the_batch(tmp_path):
    hostile_worker(tmp_path / "in" / "w-one")
    second = tmp_path / "in" / "w-two"  # a profile whose mistake quotes the canary
    second.mkdir()
    shutil.copy(DATA / "upwork" / "classic.csv", second / "classic.csv")
    (second / "profiles").mkdir()
    (second / "profiles" / "bank.toml").write_text(
        GOOD_PROFILE.replace('preamble = "Habib Bank"', f'{CANARY} = "D\'SOUZA"'))
    result = run_quick("batch", "in", "--out", "out", "--k", "1", "--jobs", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    errors = list(csv.DictReader((out / "errors.csv").open(encoding="utf-8")))
    codes = {e["code"] for e in errors}
    assert {"country", "unknown_layout", "bad_ofx", "not_a_number", "not_a_date",
            "bad_mt940", "sheet_too_large", "profile", "no_transactions"} <= codes, codes
    assert all(e["error"] == BY_CODE[e["code"]].text for e in errors)
    assert [e["line"] for e in errors if e["code"] == "not_a_number" and e["line"]]
    outputs = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    outputs[tmp_path / "stdout"] = result.stdout.encode()
    outputs[tmp_path / "stderr"] = result.stderr.encode()
    for path, data in outputs.items():
        assert CANARY.encode() not in data.lower(), path
        assert b"souza" not in data.lower(), path
    # the terminal names the real files and lines, with our words only
    assert "w-one/amount.csv:3: " + BY_CODE["not_a_number"].text in result.stderr


@pytest.mark.parametrize(("message", "code"), [
    ("3 date(s) lack a rate to USD, first 2024-01-01", "no_rate"),
    ("no PKR->USD rate for 2024-06-03", "no_rate"),
    ("date '31 Feb 2026' is not in the form '06 Jan 2026'", "not_a_date"),
    ("dates such as '05/06/2024' could be day-first or month-first", "ambiguous_date"),
    ("dates mix day-first and month-first forms: '13/06/2024' here, '06/13/2024' on line 2",
     "not_a_date"),
    ("Gross 'rate for date' is not a number", "not_a_number"),
    ("TRNTYPE 'X' is not an OFX transaction type", "bad_ofx"),
    ("row has 4 cells, fewer than the header's 13", "ragged_row"),
    ("the sheet is too large: it reaches column 16,384, more than the 1,000 ledger reads",
     "sheet_too_large"),
    ("not a regular file (a pipe, device or socket): not read", "not_regular_file"),
    # session 45: exports that went through a spreadsheet (the titles quoted hold words
    # other classes look for: "balance", "currency", "spreadsheet")
    ("this row repeats the header (line 1): two exports pasted into one file, or a page's "
     "header", "resaved"),
    ("this is a totals row, not a transaction", "resaved"),
    ("this row repeats line 2 (Transaction ID 3057719204, 150.00 USD, running balance "
     "150.00): the money would be counted twice", "resaved"),
    ("each row is one quoted cell holding a Wise balance statement (currency) row: a "
     "spreadsheet put every row in one column and saved it", "resaved"),
    ("a spreadsheet, but its rows are a Wise balance statement (currency): that format is "
     "read from its CSV file, not from a spreadsheet", "resaved"),
    ("this is a zip archive (a.csv, b.csv), not an export", "archive"),
    ("this is a compressed (gzip) file, not an export", "archive"),
    ("this is UTF-16 text without its byte-order mark", "encoding"),
])
def test_our_messages_fall_in_their_classes(message, code):
    assert classify_message(message).code == code


def test_every_class_is_ours_and_unknown_text_falls_back():
    assert len(BY_CODE) == len({c.code for c in CLASSES}) + 2
    assert classify_message(f"something new: '{CANARY}'").code == "unreadable"
    assert classify_message("unknown layout (first line: 'not a number')").code == \
        "unknown_layout"


# --- 3. hangs: a backtracking regex in a donor's profile, FIFOs, devices -------------------------

EVIL = GOOD_PROFILE.replace('preamble = "Habib Bank"', 'preamble = "^(a+)+$"')


def test_a_profile_regex_that_backtracks_answers_at_once(tmp_path):
    (tmp_path / "led" / "profiles").mkdir(parents=True)
    (tmp_path / "led" / "profiles" / "hbl.toml").write_text(EVIL)
    (tmp_path / "stmt.csv").write_text("a" * 32 + "!\n" + HBL.split("\n", 1)[1])
    result = run_quick("--ledger", "led", "import", "stmt.csv", "--dry-run", cwd=tmp_path,
                       seconds=10)
    assert result.returncode == 1 and "unknown layout" in result.stderr
    # the same profile still recognises what its preamble does match
    lines = HBL.splitlines(keepends=True)  # preamble, account, header, opening, rows
    (tmp_path / "match.csv").write_text("a" * 32 + "\n" + lines[2] + "".join(lines[4:]))
    matched = run_quick("--ledger", "led", "import", "match.csv", "--dry-run", cwd=tmp_path)
    assert matched.returncode == 0 and "bank:hbl" in matched.stdout, matched.stderr


def test_a_fifo_or_a_device_is_refused_unread(tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")
    for path in ("pipe.csv", "/dev/zero"):
        result = run_quick("--ledger", "led", "import", path, cwd=tmp_path, seconds=10)
        assert (result.returncode, result.stderr) == (
            1, f"{path}: not a regular file (a pipe, device or socket): not read\n"
               "  hint: give the file itself, saved on disk\n")
    (tmp_path / "in").mkdir()  # the input is checked first: it must exist
    key = run_quick("batch", "in", "--out", "out", "--key-file", "pipe.csv", cwd=tmp_path,
                    seconds=10)
    assert key.returncode == 2 and "the key file is not a regular file" in key.stderr
    settings = run_quick("batch", "in", "--out", "out", "--trajectories", "pipe.csv",
                         cwd=tmp_path, seconds=10)
    assert (settings.returncode, settings.stderr.splitlines()[0]) == (
        2, "pipe.csv: not a regular file")


def test_a_fifo_in_a_worker_folder_or_manifest_costs_only_that_file(tmp_path):
    folder = tmp_path / "in" / "w1"
    folder.mkdir(parents=True)
    shutil.copy(DATA / "upwork" / "classic.csv", folder)
    os.mkfifo(folder / "statement.csv")
    (tmp_path / "workers.csv").write_text(
        f"worker,country,path\nw1,PK,w1\nw2,PK,{DATA / 'upwork' / 'classic.csv'}\n"
        "w2,PK,/dev/zero\n")
    result = run_quick("batch", "in", "--manifest", "workers.csv", "--out", "out", "--k", "1",
                       "--jobs", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    errors = list(csv.DictReader((tmp_path / "out" / "errors.csv").open()))
    assert [e["code"] for e in errors] == ["not_regular_file"] * 2
    panel = pl.read_parquet(tmp_path / "out" / "panel" / "**" / "*.parquet")
    assert panel["pseudonym"].n_unique() == 2


def test_reads_are_capped_and_the_cap_is_said(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(DataError) as err:
        read_regular(path, limit=1024)
    assert err.value.message == "the file is larger than the 1 KiB ledger reads from one file"
    assert read_regular(path, limit=2048) == b"x" * 2048


# --- 4. spreadsheets that would kill the process -------------------------------------------------

def test_a_cell_at_xfd1048576_is_an_error_for_that_file_and_the_batch_goes_on(tmp_path):
    folder = tmp_path / "in" / "w1"
    folder.mkdir(parents=True)
    (folder / "far.xlsx").write_bytes(sheet(FAR_CELL))
    shutil.copy(DATA / "bank" / "icici.xlsx", folder)
    result = run_quick("--ledger", "led", "import", folder / "far.xlsx", cwd=tmp_path,
                       seconds=10)
    assert (result.returncode, result.stderr.splitlines()[0]) == (1, (
        f"{folder / 'far.xlsx'}: the sheet is too large: it reaches column 16,384, more than "
        "the 1,000 ledger reads"))
    assert result.cpu < 5  # type: ignore[attr-defined]
    batch = run_quick("batch", "in", "--out", "out", "--k", "1", "--jobs", "1", cwd=tmp_path)
    assert batch.returncode == 0, batch.stderr
    errors = list(csv.DictReader((tmp_path / "out" / "errors.csv").open()))
    assert [e["code"] for e in errors] == ["sheet_too_large"]
    assert pl.read_parquet(tmp_path / "out" / "panel" / "**" / "*.parquet").height


@pytest.mark.parametrize(("case", "message"), [
    ("dimension", "the sheet is too large: it reaches column 16,384, more than the 1,000 "
                  "ledger reads"),
    ("tall", "the sheet is too large: it spans 1,048,576 rows x 26 columns, more than the "
             "5,000,000 cells ledger reads"),
    ("text", "the spreadsheet is too large: it holds a text of 128 KiB or more (a cell "
             "holds at most 32,767 characters)"),
    ("bomb", "the spreadsheet is too large: its parts expand to 3 MiB, more than the "
             "2 MiB ledger reads uncompressed"),
    ("not_a_zip", "cannot read as a spreadsheet: the zip container is damaged"),
    # cells and rows without `r` are placed one after the other: counted, not positioned
    ("unnumbered", "the sheet is too large: it reaches column 16,384, more than the 1,000 "
                   "ledger reads"),
])
def test_sheet_limits_are_checked_before_the_reader(monkeypatch, case, message):
    monkeypatch.setattr(sheet_limits, "MAX_UNPACKED_BYTES", 2 << 20)  # a 3 MiB bomb will do
    head = '<row r="1">' + text_cell("A1", "Date") + "</row>"
    data = {
        "dimension": lambda: sheet(head, dimension="A1:XFD1048576"),
        "tall": lambda: sheet(head + '<row r="1048576"><c r="Z1048576"><v>1</v></c></row>'),
        "text": lambda: sheet('<row r="1">' + text_cell("A1", "x" * 200_000) + "</row>"),
        "bomb": lambda: sheet(head, parts={"xl/media/pad.bin": "\0" * (3 << 20)}),
        "not_a_zip": lambda: b"PK\x03\x04" + b"\0" * 100,
        "unnumbered": lambda: sheet("<row>" + "<c><v>1</v></c>" * 16_384 + "</row>"
                                    '<row r="1048576"><c><v>1</v></c></row>'),
    }[case]()
    assert len(data) < 300_000  # tiny on disk
    raw = RawFile(path=Path("s.xlsx"), data=data, sha256=f"{case}-{len(data)}")
    started = time.process_time()
    with pytest.raises(DataError) as err:
        registry.parse(raw, registry_options())
    assert err.value.message == message
    assert time.process_time() - started < 5


def registry_options():
    from importers.base import ImportOptions

    return ImportOptions()


def test_a_zip_that_lies_about_its_sizes_is_refused(tmp_path):
    """A member whose header declares fewer bytes than it inflates to."""
    data = bytearray(sheet('<row r="1">' + text_cell("A1", "Date " * 200) + "</row>"))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    member = archive.getinfo("xl/worksheets/sheet1.xml")
    real = member.file_size.to_bytes(4, "little")
    lie = (64).to_bytes(4, "little")
    assert data.count(real) >= 2  # the local header and the central directory
    data = bytearray(bytes(data).replace(real, lie))
    with pytest.raises(DataError) as err:
        sheet_limits.check_sheet(bytes(data), "s.xlsx")
    assert err.value.message.startswith("cannot read as a spreadsheet")


def test_the_genuine_statement_passes_the_sheet_limits_quickly():
    data = (DATA / "bank" / "icici.xlsx").read_bytes()
    started = time.process_time()
    sheet_limits.check_sheet(data, "icici.xlsx")
    assert time.process_time() - started < 1


# --- 8. a stray byte in a UTF-8 file is read per the evidence, and said -----------------------

def test_a_latin1_byte_in_a_utf8_file_is_read_as_such_and_warned(tmp_path):
    text = (DATA / "upwork" / "classic.csv").read_bytes()
    data = text.replace(b"Goodwill credit", "Goodwill crédit für Café".encode()).replace(
        b"Acme Corp", b"Acme Caf\xe9", 1)
    (tmp_path / "mixed.csv").write_bytes(data)
    line = data[:data.index(b"Caf\xe9")].count(b"\n") + 1
    result = run_quick("--ledger", "led", "import", "mixed.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (f"warning: mixed.csv:{line}: byte 0xe9 is not UTF-8 while the rest of the file is; "
            "read it as Windows-1252 ('é')") in " ".join(result.stdout.split())
    raw = registry.read(tmp_path / "mixed.csv")
    assert "Goodwill crédit für Café" in raw.text and "Acme Café" in raw.text
    # a Windows-1252 file (no UTF-8 at all) reads as before, without a warning
    (tmp_path / "cp1252.csv").write_bytes(text.replace(b"Acme Corp", b"Acme Caf\xe9"))
    plain = registry.read(tmp_path / "cp1252.csv")
    assert plain.encoding == "cp1252" and "Acme Café" in plain.text
    assert plain.decode_warning is None
