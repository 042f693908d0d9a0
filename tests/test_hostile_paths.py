"""Hostile and unlucky input (issue 24): folder names that look like glob patterns, amounts too
large to compute with, a batch key or output among the donations, a read-only or full disk,
a killed import, user text that looks like Rich markup. Every input is built here, in
tmp_path, and goes through the real `ledger` command."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import PAYPAL, UPWORK, snapshot
from tests.test_cli import COMMAND, ok, run

HOURS = Path(__file__).parent / "data" / "hours" / "hours.csv"
UPWORK_HEADER = ("Date,Ref ID,Type,Description,Agency,Freelancer,Team,Account Name,PO,Amount,"
                 "Amount in local currency,Currency,Balance\n")


def rows_of(cwd: Path, ledger: str) -> list[dict]:
    return json.loads(ok(run("--ledger", ledger, "transactions", "--format", "json",
                             cwd=cwd)).stdout)


def leftovers(root: Path) -> list[str]:
    """Temporary and staged files anywhere under a ledger."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*")
                  if p.name.endswith((".tmp", ".staged")))


# --- 1. a folder name is a name, never a pattern ------------------------------------------------

def test_ledger_folder_named_like_a_glob_reads_only_itself(tmp_path):
    """`--ledger 'L[ab]'` next to `La` read La's rows and wrote them back as its own."""
    ok(run("--ledger", "La", "import", UPWORK, cwd=tmp_path))
    before = snapshot(tmp_path / "La")
    ok(run("--ledger", "L[ab]", "import", PAYPAL, cwd=tmp_path))
    assert {r["source"] for r in rows_of(tmp_path, "L[ab]")} == {"paypal"}
    ok(run("--ledger", "L[ab]", "import", PAYPAL, cwd=tmp_path))  # the second import, too
    assert {r["source"] for r in rows_of(tmp_path, "L[ab]")} == {"paypal"}
    assert snapshot(tmp_path / "La") == before
    assert ok(run("--ledger", "L[ab]", "doctor", "--check", cwd=tmp_path)).stdout == \
        "the ledger is consistent\n"


def test_ledger_in_my_ledger_2024_works_end_to_end(tmp_path):
    name = "My Ledger [2024]"
    (tmp_path / "My Ledger 2").mkdir()  # what `[2024]` matches as a pattern
    first = ok(run("--ledger", name, "import", UPWORK, PAYPAL, cwd=tmp_path))
    assert f"ledger: {name}\n" in first.stdout  # printed literally, brackets and all
    again = ok(run("--ledger", name, "import", UPWORK, PAYPAL, cwd=tmp_path))
    assert "0 ledger rows added" in again.stdout
    report = json.loads(ok(run("--ledger", name, "report", "--month", "2024-06", "--currency",
                               "USD", "--format", "json", cwd=tmp_path)).stdout)
    assert report["totals"]["gross"] != "0.00"
    imports = json.loads(ok(run("--ledger", name, "imports", "--format", "json",
                                cwd=tmp_path)).stdout)
    assert len(imports) == 2
    total = len(rows_of(tmp_path, name))
    ok(run("--ledger", name, "undo", imports[1]["import_id"][:12], cwd=tmp_path))
    assert {r["source"] for r in rows_of(tmp_path, name)} == {"upwork"}
    assert ok(run("--ledger", name, "doctor", cwd=tmp_path)).stdout == \
        "the ledger is consistent\n"
    assert "rebuilt from 1 import" in ok(run("--ledger", name, "rebuild", cwd=tmp_path)).stdout
    out = tmp_path / name / "rows [1].parquet"
    ok(run("--ledger", name, "export", "--format", "parquet", "-o", out, cwd=tmp_path))
    from ledger.reports.export import read_parquet

    assert 0 < read_parquet(out).height < total
    assert not any(p.name != "ledger.toml" for p in (tmp_path / "My Ledger 2").iterdir())


def test_batch_summary_of_an_output_folder_named_like_a_glob(tmp_path):
    """`batch --out 'p[12]'` computed its summary from p1's panel."""
    from tests.test_batch import make_workers

    make_workers(tmp_path / "small", 3)
    make_workers(tmp_path / "large", 12)
    ok(run("batch", "large", "--out", "p1", "--k", "1", "--jobs", "1", cwd=tmp_path))
    ok(run("batch", "small", "--out", "p[12]", "--k", "1", "--jobs", "1", cwd=tmp_path))
    ok(run("batch", "small", "--out", "p3", "--k", "1", "--jobs", "1", cwd=tmp_path))
    own = (tmp_path / "p[12]" / "summary.csv").read_text("utf-8")
    assert own == (tmp_path / "p3" / "summary.csv").read_text("utf-8")
    assert own != (tmp_path / "p1" / "summary.csv").read_text("utf-8")


# --- 5. amounts too large for what comes after --------------------------------------------------

def upwork_file(path: Path, amount: str) -> Path:
    path.write_text(UPWORK_HEADER + f'"Jun 11, 2024",612345701,Miscellaneous,Goodwill credit,,,,'
                    f"Jane Doe,,{amount},,,{amount}\n", "utf-8")
    return path


def test_an_amount_of_10_to_the_15_is_refused_at_import(tmp_path):
    upwork_file(tmp_path / "huge.csv", "-1000000000000000.00")
    result = run("--ledger", "led", "import", "huge.csv", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, (
        "huge.csv:2: amount -1000000000000000 is too large: the ledger holds amounts below "
        "1,000,000,000,000,000 (10^15)\n  hint: the value is misread or damaged; fix it in "
        "the file or download the export again\n"))
    assert not (tmp_path / "led").exists()


def test_the_largest_amount_allowed_still_reports_and_exports(tmp_path):
    upwork_file(tmp_path / "big.csv", "999999999999999.99")
    ok(run("--ledger", "led", "init", "--currency", "PKR", cwd=tmp_path))
    (tmp_path / "led" / "rates.csv").write_text("date,from,to,rate\n2024-06-11,USD,PKR,"
                                                "278.4567\n", "utf-8")
    ok(run("--ledger", "led", "import", "big.csv", cwd=tmp_path))
    report = json.loads(ok(run("--ledger", "led", "report", "--format", "json",
                               cwd=tmp_path)).stdout)
    assert report["currency"] == "PKR"
    for fmt in ("csv", "parquet"):
        ok(run("--ledger", "led", "export", "--format", fmt, "-o", f"rows.{fmt}", cwd=tmp_path))


# --- 6. the key and the panel stay outside the donations ----------------------------------------

@pytest.mark.parametrize("key", ["in/worker-00/k", "in/k"])
def test_batch_key_inside_input_is_refused(tmp_path, key):
    from tests.test_batch import make_workers

    make_workers(tmp_path / "in", 2)
    result = run("batch", "in", "--out", "out", "--key-file", key, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, (
        f"{key}: the key file is inside the donated exports\n  hint: keep the key outside "
        "INPUT, e.g. --key-file ./batch.key next to it: there it would be read as a worker's "
        "export\n"))
    assert not (tmp_path / key).exists() and not (tmp_path / "out").exists()


def test_batch_key_in_a_manifest_workers_folder_is_refused(tmp_path):
    from tests.test_batch import make_workers

    make_workers(tmp_path / "in", 2)
    (tmp_path / "workers.csv").write_text("worker,country,path\na,PK,in/worker-00\n"
                                          "b,PH,in/worker-01\n", "utf-8")
    result = run("batch", "workers.csv", "--out", "out", "--key-file", "in/worker-01/k",
                 cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("in/worker-01/k: the key file is inside the donated exports")


def test_batch_all_zero_key_is_refused(tmp_path):
    from tests.test_batch import make_workers

    make_workers(tmp_path / "in", 2)
    (tmp_path / "zero.key").write_bytes(bytes(32))
    result = run("batch", "in", "--out", "out", "--key-file", "zero.key", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, (
        "zero.key: not a batch key: every byte is zero\n  hint: a key must be random: give a "
        "new path to create one (or the key an earlier run created)\n"))


@pytest.mark.parametrize("out", ["in/worker-01", "in/worker-01/panel", "in/panel"])
def test_batch_out_inside_a_donors_folder_is_refused(tmp_path, out):
    """It used to drop that worker silently (its folder was skipped as the output)."""
    from tests.test_batch import make_workers

    make_workers(tmp_path / "in", 2)
    before = snapshot(tmp_path / "in")
    result = run("batch", "in", "--out", out, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, (
        f"{out}: the output folder is inside the donated exports\n  hint: write the panel to "
        "a folder outside INPUT: inside it, a worker's folder would be skipped or read as the "
        "panel\n"))
    assert snapshot(tmp_path / "in") == before


# --- 7. the file system says no -----------------------------------------------------------------

READ_ONLY = '''
import builtins, errno, io, os, sys
_open, _osopen = builtins.open, os.open
def _refuse(path, *_, **__):
    raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
def _os_open(path, flags, *args, **kwargs):
    if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
        _refuse(path)
    return _osopen(path, flags, *args, **kwargs)
def _io_open(file, mode="r", *args, **kwargs):
    if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+"):
        _refuse(file)
    return _open(file, mode, *args, **kwargs)
os.open, builtins.open, io.open = _os_open, _io_open, _io_open
for name in ("mkdir", "replace", "rename", "unlink", "chmod", "rmdir", "remove"):
    setattr(os, name, _refuse)
sys.argv[0] = "ledger"
from ledger.cli.main import main
main()
'''
"""The real `ledger` on a read-only file system: every write fails with EROFS as on a
read-only mount (we run as root, which chmod does not stop)."""

EROFS_HINT = ("  hint: nothing was changed; the file system is read-only: use a writable folder "
              "(e.g. --ledger DIR) or remount it\n")


def run_read_only(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DIR", "LEDGER_DEBUG")}
    environ.update({"COLUMNS": "200", "NO_COLOR": "1"})
    return subprocess.run([sys.executable, "-c", READ_ONLY, *map(str, args)], cwd=cwd,
                          env=environ, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def seeded(tmp_path) -> Path:
    ok(run("--ledger", "led", "import", UPWORK, PAYPAL, cwd=tmp_path))
    ok(run("--ledger", "led", "hours", "import", HOURS, cwd=tmp_path))
    return tmp_path


@pytest.mark.parametrize(("args", "where"), [
    (("import", str(PAYPAL.with_name("statement-en.csv"))), "led"),
    (("undo", "{first}"), "led"),
    (("rebuild",), "led"),
    (("doctor",), "led"),
    (("hours", "import", str(HOURS)), "led"),
    (("formats", "new", str(UPWORK)), "led/profiles"),
], ids=["import", "undo", "rebuild", "doctor", "hours-import", "formats-new"])
def test_read_only_file_system_is_a_clear_error(seeded, args, where):
    first = json.loads(ok(run("--ledger", "led", "imports", "--format", "json",
                              cwd=seeded)).stdout)[0]["import_id"][:12]
    before = snapshot(seeded / "led")
    result = run_read_only("--ledger", "led", *(a.format(first=first) for a in args),
                           cwd=seeded)
    assert (result.returncode, result.stderr) == (
        1, f"{where}: cannot write: Read-only file system\n{EROFS_HINT}")
    assert snapshot(seeded / "led") == before


def test_init_on_a_read_only_file_system(tmp_path):
    result = run_read_only("--ledger", "new", "init", "--currency", "PKR", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        1, f"new: cannot write: Read-only file system\n{EROFS_HINT}")
    assert not (tmp_path / "new").exists()


def test_file_size_limit_during_the_parquet_write(tmp_path):
    """The archived source fits the limit, ledger.parquet does not: polars says only
    `transport error`; nothing may be left behind."""
    ok(run("--ledger", "led", "init", "--currency", "USD", cwd=tmp_path))
    (tmp_path / "led" / ".lock").touch()  # what any earlier write leaves
    before = snapshot(tmp_path / "led")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    environ = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DIR", "LEDGER_DEBUG")}
    environ["COLUMNS"] = "1000"  # the hint on one line (it wraps at the width, 80 when piped)
    result = subprocess.run([*COMMAND, "--ledger", "led", "import", str(UPWORK)], cwd=tmp_path,
                            env=environ, capture_output=True, text=True, timeout=120,
                            check=False, preexec_fn=limit)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("led/ledger.parquet: cannot write to the ledger: the write "
                                    "failed (")
    assert result.stderr.endswith("  hint: nothing was changed; the disk may be full or a "
                                  "file-size limit reached (ulimit -f): free space, then run "
                                  "the command again\n")
    assert snapshot(tmp_path / "led") == before


def test_disk_full_during_the_parquet_write(ledger, options, monkeypatch):
    """Polars reports ENOSPC as a ComputeError naming `os error 28`."""
    import polars as pl

    from ledger.core.errors import DataError

    def full(self, path, **_):
        raise pl.exceptions.ComputeError("parquet: IO error: No space left on device "
                                         "(os error 28)")

    ledger.import_files([UPWORK], options)
    before = snapshot(ledger.root)
    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    with pytest.raises(DataError, match="cannot write to the ledger: No space left on device"):
        ledger.import_files([PAYPAL], options)
    assert snapshot(ledger.root) == before


def test_ledger_that_is_a_regular_file(tmp_path):
    (tmp_path / "notes.txt").write_text("not a ledger\n", "utf-8")
    for args in (("report",), ("import", str(UPWORK)), ("doctor",)):
        result = run("--ledger", "notes.txt", *args, cwd=tmp_path)
        assert (result.returncode, result.stderr) == (2, (
            "notes.txt: the ledger is a file, not a folder\n  hint: give the ledger's folder "
            "with --ledger DIR (or $LEDGER_DIR); a new folder name creates a new ledger\n"))
    assert (tmp_path / "notes.txt").read_text("utf-8") == "not a ledger\n"


def test_killed_import_leaves_no_staged_copies(tmp_path):
    """SIGTERM (a timeout, `kill PID`) mid-import: the staged archive copies and the staged
    ledger are removed, the ledger is as before."""
    ok(run("--ledger", "led", "import", UPWORK, cwd=tmp_path))
    before = snapshot(tmp_path / "led")
    environ = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DIR", "LEDGER_DEBUG")}
    environ["LEDGER_STEP_DELAY"] = "30"
    process = subprocess.Popen([*COMMAND, "--ledger", "led", "import", str(PAYPAL)],
                               cwd=tmp_path, env=environ, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    assert process.stderr.readline() == "step start\n"  # parsed and staged, now committing
    assert leftovers(tmp_path / "led")  # the staged archive copy exists now
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    process.stderr.close()
    assert leftovers(tmp_path / "led") == []
    assert snapshot(tmp_path / "led") == before


def test_doctor_leaves_the_staged_copies_of_a_running_import(tmp_path):
    ok(run("--ledger", "led", "import", UPWORK, cwd=tmp_path))
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    try:
        live = tmp_path / "led" / "sources" / f".{'a' * 64}.csv.{running.pid}.staged.tmp"
        dead = tmp_path / "led" / "sources" / f".{'b' * 64}.csv.{ended.pid}.staged.tmp"
        live.write_bytes(b"being written")
        dead.write_bytes(b"abandoned")
        result = ok(run("--ledger", "led", "doctor", cwd=tmp_path))
        assert live.exists() and not dead.exists()
        assert str(live.name) not in result.stdout and str(dead.name) in result.stdout
    finally:
        running.kill()
        running.wait()


# --- 8. user text is printed as it is ----------------------------------------------------------

def test_file_names_print_literally(tmp_path):
    name = "[bold]statement :x: [ab].csv"  # no '/': `[/]` cannot be in a file name
    (tmp_path / name).write_bytes(UPWORK.read_bytes())
    result = ok(run("--ledger", "led", "import", name, cwd=tmp_path))
    assert result.stdout.startswith(f"{name}: upwork, ")
    imports = ok(run("--ledger", "led", "imports", cwd=tmp_path)).stdout
    assert "[bold]statement :x: [ab].csv" in imports and "❌" not in imports


def test_a_newline_in_a_file_name_does_not_inject_toml(tmp_path):
    name = 'statement\nname = "evil"\n[detect]\nheader = ["x"]\n.csv'
    (tmp_path / name).write_text("Date,Description,Debit,Credit,Balance\n"
                                 "28/06/2024,Salary,,100.00,100.00\n"
                                 "29/06/2024,Rent,50.00,,50.00\n", "utf-8")
    ok(run("--ledger", "led", "formats", "new", name, "--name", "mybank", cwd=tmp_path))
    draft = (tmp_path / "led" / "profiles" / "mybank.toml").read_text("utf-8")
    profile = tomllib.loads(draft)
    assert profile["name"] == "mybank"
    assert profile["detect"]["header"] == ["Date", "Description", "Debit", "Credit", "Balance"]
    assert not any(line.startswith(("name = \"evil\"", "header = [\"x\"]"))
                   for line in draft.splitlines())
