"""Recorded payments (payouts.csv) as a small ledger: duplicates need --again, records are
listed and undone by id, a broken line is named, files without ids keep working."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from tests.test_cli import as_json, ok, run

DATA = Path(__file__).parent / "data" / "payouts"


@pytest.fixture
def led(tmp_path: Path) -> Path:
    """A ledger directory with the payouts rules and no imports (records need only the rules)."""
    root = tmp_path / "led"
    root.mkdir()
    shutil.copyfile(DATA / "ledger.toml", root / "ledger.toml")
    return root


def record(tmp_path: Path, *args: str):
    return run("--ledger", "led", "payouts", "record", *args, cwd=tmp_path)


def listed(tmp_path: Path, *args: str) -> list[dict]:
    return as_json(run("--ledger", "led", "payouts", "list", "--format", "json", *args,
                       cwd=tmp_path))["records"]


def test_the_same_payment_twice_needs_again(led, tmp_path):
    ok(record(tmp_path, "Ali", "20000", "PKR", "--date", "2024-06-20"))
    twice = record(tmp_path, "ali", "20,000.00", "pkr", "--date", "2024-06-20")
    assert twice.returncode == 1
    first_id = listed(tmp_path)[0]["id"][:8]
    assert twice.stderr == (
        f"led/payouts.csv:2: Ali is already recorded as paid 20000.00 PKR on 2024-06-20, id "
        f"{first_id}\n  hint: if you really paid twice, add --again; a wrong record goes with "
        f"`ledger payouts undo {first_id}`\n")
    assert len(listed(tmp_path)) == 1
    # another reference or another day is another payment; --again records it anyway
    ok(record(tmp_path, "Ali", "20000", "PKR", "--date", "2024-06-20", "--ref", "JC-2"))
    ok(record(tmp_path, "Ali", "20000", "PKR", "--date", "2024-06-21"))
    ok(record(tmp_path, "Ali", "20000", "PKR", "--date", "2024-06-20", "--again"))
    rows = listed(tmp_path)
    assert [(r["date"], r["reference"]) for r in rows] == [
        ("2024-06-20", None), ("2024-06-20", "JC-2"), ("2024-06-20", None),
        ("2024-06-21", None)]
    assert len({r["id"] for r in rows}) == 4


def test_list_filters_and_formats(led, tmp_path):
    ok(record(tmp_path, "Ali", "5000", "PKR", "--date", "2024-05-30", "--note", "cash"))
    ok(record(tmp_path, "Hina", "3000", "PKR", "--date", "2024-06-28", "--ref", "NP-1"))
    ok(record(tmp_path, "Ali", "2500", "PKR", "--date", "2024-06-02"))
    assert [r["amount"] for r in listed(tmp_path, "--worker", "ali")] == ["5000", "2500"]
    assert [r["worker"] for r in listed(tmp_path, "--month", "2024-06")] == ["Ali", "Hina"]
    assert [r["date"] for r in listed(tmp_path, "--from", "2024-06-01")] == [
        "2024-06-02", "2024-06-28"]
    assert [r["date"] for r in listed(tmp_path, "--to", "2024-06-01")] == ["2024-05-30"]
    assert len(listed(tmp_path, "--year", "2024")) == 3
    text = ok(run("--ledger", "led", "payouts", "list", "--format", "csv", cwd=tmp_path)).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["worker"], r["amount"], r["reference"], r["note"]) for r in rows] == [
        ("Ali", "5000", "", "cash"), ("Ali", "2500", "", ""), ("Hina", "3000", "NP-1", "")]
    table = ok(run("--ledger", "led", "payouts", "list", cwd=tmp_path)).stdout
    assert "5,000 PKR" in table and rows[0]["id"][:8] in table


def test_undo_removes_one_record_and_keeps_it(led, tmp_path):
    ok(record(tmp_path, "Ali", "20000", "PKR", "--date", "2024-06-20"))
    ok(record(tmp_path, "Hina", "3000", "PKR", "--date", "2024-06-28"))
    wrong = listed(tmp_path, "--worker", "Ali")[0]["id"]
    done = ok(run("--ledger", "led", "payouts", "undo", wrong[:6], cwd=tmp_path)).stdout
    assert done.strip() == (f"undone {wrong[:8]}: 20000 PKR paid to Ali on 2024-06-20 (kept "
                            "in payouts-undone.csv)")
    assert [r["worker"] for r in listed(tmp_path)] == ["Hina"]
    kept = list(csv.DictReader(io.StringIO((led / "payouts-undone.csv").read_text("utf-8"))))
    assert [(r["id"], r["amount"]) for r in kept] == [(wrong, "20000")]
    assert kept[0]["undone"]
    again = run("--ledger", "led", "payouts", "undo", wrong[:6], cwd=tmp_path)
    assert (again.returncode, again.stderr.splitlines()[0]) == (
        2, f"error: no payout record '{wrong[:6]}' in payouts.csv")
    # undone, the same payment can be recorded again without --again
    ok(record(tmp_path, "Ali", "20000", "PKR", "--date", "2024-06-20"))
    assert not list(led.glob(".*.tmp"))


def test_undo_needs_an_unambiguous_id(led, tmp_path):
    (led / "payouts.csv").write_text(
        "id,date,worker,amount,currency\nabcd1,2024-06-01,Ali,5,PKR\nabcd2,2024-06-02,Ali,6,"
        "PKR\n", "utf-8")
    result = run("--ledger", "led", "payouts", "undo", "abcd", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2, "error: id 'abcd' matches 2 records (abcd1, abcd2)\n"
        "  hint: give more characters of the id\n")
    short = run("--ledger", "led", "payouts", "undo", "ab", cwd=tmp_path)
    assert short.returncode == 2 and "too short" in short.stderr


def test_a_file_without_ids_keeps_working_with_stable_ids(led, tmp_path):
    (led / "payouts.csv").write_text(
        "date,worker,amount,currency,note\n2024-06-01,Ali,500,PKR,cash\n"
        "2024-06-01,Ali,500,PKR,cash\n2024-06-03,Hina,700,PKR,\n", "utf-8")
    before = listed(tmp_path)
    assert len({r["id"] for r in before}) == 3  # identical rows get distinct ids
    assert listed(tmp_path) == before           # and the same ones each time
    ok(run("--ledger", "led", "payouts", "undo", before[2]["id"], cwd=tmp_path))
    after = listed(tmp_path)
    assert [r["id"] for r in after] == [r["id"] for r in before[:2]]  # others kept theirs
    header = (led / "payouts.csv").read_text("utf-8").splitlines()[0]
    assert header == "id,date,worker,amount,currency,reference,note,recorded"


@pytest.mark.parametrize(("content", "message"), [
    ("id,date,worker,amount,currency\nx1,2024-06-01,Ali,5,PKR\nx2,2024-06-02,Ali,5,PKR,oops\n",
     "led/payouts.csv:3: payout row has 6 fields, the header has 5\n"),
    ("id,date,worker,amount,currency\nx1,2024-06-01,Ali,5,PKR\nx2,2024-06-31,Ali,5,PKR\n",
     "led/payouts.csv:3: bad payout row (date '2024-06-31', amount '5')\n"),
    ("id,date,worker,amount,currency\nx1,2024-06-01,Zed,5,PKR\n",
     "led/payouts.csv:2: unknown worker 'Zed'\n"),
    ("id,date,worker,amount,currency\nx1,2024-06-01,Ali,5,PKR\nx1,2024-06-02,Ali,6,PKR\n",
     "led/payouts.csv:3: payout id x1 is used twice (lines 2 and 3)\n"),
])
@pytest.mark.parametrize("command", [("payouts", "list"),
                                     ("payouts", "record", "Ali", "1", "PKR", "--date",
                                      "2024-07-01")])
def test_a_malformed_line_is_an_error_naming_it(led, tmp_path, content, message, command):
    (led / "payouts.csv").write_text(content, "utf-8")
    result = run("--ledger", "led", *command, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert (led / "payouts.csv").read_text("utf-8") == content  # nothing written
