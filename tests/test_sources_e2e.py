"""Every source a freelancer has, end to end through the real `ledger` command: one export of
each format and bank profile imported in one call and reported together; overlapping
statements; and a bank the importer does not know, added by `ledger formats new` and a few
edits to the drafted profile, as a user would make them in an editor."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests.golden import DATA
from tests.test_cli import as_json, ok, run
from tests.test_detection import EXPECTED

PLATFORMS = {"upwork", "paypal", "payoneer", "wise", "fiverr", "freelancer", "ofx", "camt053",
             "mt940", "bank"}
"""by_platform names in the report: each format's platform, every bank profile's is `bank`."""


def one_per_format() -> dict[str, str]:
    """The first golden export (by path) of each format: file name -> expected format.
    Exports kept as fixtures of another feature (tests/data/payouts) are not chosen."""
    chosen: dict[str, str] = {}
    for path, fmt in sorted(EXPECTED.items()):
        if fmt not in chosen.values() and not path.startswith("payouts/"):
            chosen[path] = fmt
    return {Path(path).name: fmt for path, fmt in chosen.items()}


def rows(cwd: Path, ledger: str = "led") -> list[dict]:
    return as_json(run("--ledger", ledger, "transactions", "--format", "json", cwd=cwd))


# --- (a) one export of every kind, one import ---------------------------------------------


@pytest.fixture(scope="module")
def every_source(tmp_path_factory) -> tuple[Path, dict]:
    """A downloads folder holding one golden export per format, imported in one command."""
    cwd = tmp_path_factory.mktemp("sources")
    folder = cwd / "downloads"
    folder.mkdir()
    by_name = {Path(p).name: p for p in EXPECTED}
    for name in one_per_format():
        shutil.copyfile(DATA / by_name[name], folder / name)
    paths = sorted(folder.iterdir())  # what the shell makes of downloads/*
    summary = as_json(run("--ledger", "led", "import", "--format", "json", *paths, cwd=cwd))
    return cwd, summary


def test_one_import_detects_every_format(every_source):
    cwd, summary = every_source
    expected = one_per_format()
    assert any(name.endswith(".xlsx") for name in expected)
    assert {Path(f["path"]).name: f["format"] for f in summary["files"]} == expected
    assert all(f["added"] > 0 and f["duplicates"] == 0 for f in summary["files"])
    imports = as_json(run("--ledger", "led", "imports", "--format", "json", cwd=cwd))
    assert {e["file"]: e["format"] for e in imports} == expected
    assert len(rows(cwd)) == sum(f["added"] for f in summary["files"])


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_report_over_every_source(every_source, currency):
    """Every source's rows in one report; USD needs INR, PHP, AUD crossed through EUR."""
    cwd, summary = every_source
    dates = sorted(r["date"] for r in rows(cwd))
    report = as_json(run("--ledger", "led", "report", "--from", dates[0], "--to", dates[-1],
                         "--currency", currency, "--format", "json", cwd=cwd))
    assert report["currency"] == currency
    added = {Path(f["path"]).name: f["added"] for f in summary["files"]}
    assert {s["file"]: (s["format"], s["rows"]) for s in report["sources"]} == {
        name: (fmt, added[name]) for name, fmt in one_per_format().items()}
    # and an item of no platform's money: the exports' expenses and unclassified rows
    t = report["totals"]
    others = ("subcontractor_payouts", "expenses")
    assert any(Decimal(t[k]) for k in others) or Decimal(t["other"])
    assert {p["platform"] for p in report["by_platform"]} == {*PLATFORMS, None}
    (none,) = [p for p in report["by_platform"] if p["platform"] is None]
    assert Decimal(none["fees"]) == sum(Decimal(t[k]) for k in others) - Decimal(t["other"])
    for section in ("by_platform", "by_client"):  # the items' net home is the report's net
        assert sum(Decimal(i["net_home"]) for i in report[section]) == Decimal(t["net"])
    assert report["rows"] == sum(added.values())


# --- (b) overlapping statements -----------------------------------------------------------


def slices(source: Path, header: str, first: slice, second: slice) -> tuple[str, str]:
    """Two exports of one account: the file's lines up to its header, then two overlapping
    runs of its data lines (no footer in these files)."""
    lines = source.read_text("utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(header)) + 1
    head, data = lines[:at], lines[at:]
    return "".join(head + data[first]), "".join(head + data[second])


@pytest.mark.parametrize(("golden", "header", "fmt", "overlap"), [
    # a bank statement: rows have no transaction id, so they are told apart by content and
    # balance; oldest first
    ("bank/m-02-2025.csv", "TIMESTAMP,", "bank:nayapay", 2),
    # a platform export with transaction ids, newest first
    ("upwork/classic.csv", "Date,Ref ID,", "upwork", 4),
], ids=["bank", "upwork"])
def test_overlapping_statement_adds_only_new_rows(golden, header, fmt, overlap, tmp_path):
    source = DATA / golden
    older, newer = slices(source, header, slice(0, 4), slice(4 - overlap, None))
    (tmp_path / "first.csv").write_text(older, "utf-8")
    (tmp_path / "second.csv").write_text(newer, "utf-8")
    one = as_json(run("--ledger", "led", "import", "--format", "json", "first.csv",
                      cwd=tmp_path))["files"][0]
    two = as_json(run("--ledger", "led", "import", "--format", "json", "second.csv",
                      cwd=tmp_path))["files"][0]
    assert (one["format"], two["format"]) == (fmt, fmt)
    assert two["duplicates"] == overlap
    assert two["added"] == two["rows"] - overlap > 0
    # the two halves give exactly the rows of the whole export
    whole = as_json(run("--ledger", "whole", "import", "--format", "json", source,
                        cwd=tmp_path))["files"][0]
    assert one["added"] + two["added"] == whole["added"]
    key = ("id", "date", "kind", "amount", "currency", "description")
    assert sorted(tuple(r[k] for k in key) for r in rows(tmp_path)) == \
        sorted(tuple(r[k] for k in key) for r in rows(tmp_path, "whole"))


# --- (c) a bank the importer does not know --------------------------------------------------

STATEMENT = """Habib Bank Limited
Account Statement
Account Title: ASIF KHAN
Period: 01/03/2025 to 31/03/2025

Txn Date,Transaction Details,Withdrawal,Deposit,Balance
03/03/2025,Opening Balance,,,"50,000.00"
03/03/2025,HOME REMITTANCE PAYONEER INC USD 500.00,,"139,250.00","189,250.00"
05/03/2025,ATM CASH WITHDRAWAL KARACHI,"20,000.00",,"169,250.00"
07/03/2025,SMS ALERT CHARGES,150.50,,"169,099.50"
10/03/2025,IBFT TO ALI RAZA,"12,345.67",,"156,753.83"
11/03/2025,PROFIT PAID,,"1,234.56","157,988.39"
"""
"""An HBL-like statement: a preamble, separate withdrawal/deposit columns, Indian-style
grouping, dates whose day never exceeds 12 (day-first or month-first?) and no currency."""

EDITS = [
    # (a line the draft has, what the user writes instead)
    (r'^name = .*$', 'name = "hbl"'),
    (r'^title = .*$', 'title = "HBL account statement (CSV)"'),
    (r'^country = .*$', 'country = "PK"'),
    (r'^currency = .*$', 'currency = "PKR"'),
    (r'^(date_format = \["%d/%m/%Y"\])  # TODO.*$', r"\1"),
]


def test_unknown_bank_then_formats_new_then_import(tmp_path):
    (tmp_path / "hbl-march.csv").write_text(STATEMENT, "utf-8")
    refused = run("--ledger", "led", "import", "hbl-march.csv", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith("hbl-march.csv:1: unknown layout (first line: "
                                     "'Habib Bank Limited')\n  hint: formats tried: ")
    assert "`ledger formats new hbl-march.csv` drafts one, edit its TODOs" in refused.stderr
    assert "Traceback" not in refused.stderr

    drafted = ok(run("--ledger", "led", "formats", "new", "hbl-march.csv", cwd=tmp_path))
    profile = tmp_path / "led" / "profiles" / "hbl-march.toml"
    assert drafted.stdout.startswith(f"wrote {Path('led/profiles/hbl-march.toml')} ")
    text = profile.read_text("utf-8")
    todo_lines = [line for line in text.splitlines() if "# TODO" in line]
    assert [line.split(" = ")[0] for line in todo_lines] == [
        "name", "title", "country", "currency", "date_format"]
    for line in todo_lines:  # every TODO is shown to the user
        assert line.strip() in drafted.stdout
    assert drafted.stdout.rstrip().endswith("then: ledger --ledger led import hbl-march.csv")

    again = run("--ledger", "led", "formats", "new", "hbl-march.csv", cwd=tmp_path)
    assert (again.returncode, again.stderr) == (2, (
        "led/profiles/hbl-march.toml: profile 'hbl-march' already exists\n  hint: edit it, "
        "choose another name with --name, or replace it with --force\n"))
    assert profile.read_text("utf-8") == text

    for pattern, replacement in EDITS:  # the user settles each TODO in an editor
        text, found = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
        assert found == 1, pattern
    assert "# TODO" not in text
    profile.write_text(text, "utf-8")

    listed = as_json(run("--ledger", "led", "formats", "--format", "json", cwd=tmp_path))
    mine = [f for f in listed["formats"] if f["user"]]
    assert [(f["name"], f["title"], f["origin"]) for f in mine] == [
        ("bank:hbl", "HBL account statement (CSV)", "yours")]
    assert "profile hbl-march.toml" in mine[0]["fingerprint"]
    assert "bank:hbl" in ok(run("--ledger", "led", "formats", cwd=tmp_path)).stdout

    summary = as_json(run("--ledger", "led", "import", "--format", "json", "hbl-march.csv",
                          cwd=tmp_path))["files"]
    assert [(f["format"], f["rows_read"], f["added"]) for f in summary] == [("bank:hbl", 6, 5)]
    assert list(summary[0]["skipped"].values()) == [1]  # the Opening Balance pseudo-row
    expected = [
        ("2025-03-03", "bank:hbl", "bank:hbl", "139250.0000", "PKR", "transfer", 8),
        ("2025-03-05", "bank:hbl", "bank:hbl", "-20000.0000", "PKR", "transfer", 9),
        ("2025-03-07", "bank:hbl", "bank:hbl", "-150.5000", "PKR", "bank_fee", 10),
        ("2025-03-10", "bank:hbl", "bank:hbl", "-12345.6700", "PKR", "transfer", 11),
        ("2025-03-11", "bank:hbl", "bank:hbl", "1234.5600", "PKR", "other", 12),
    ]
    got = rows(tmp_path)
    assert [(r["date"], r["source"], r["account"], r["amount"], r["currency"], r["kind"],
             r["line"]) for r in got] == expected

    # rebuild re-reads the archived statement through the same user profile
    ok(run("--ledger", "led", "rebuild", cwd=tmp_path))
    assert rows(tmp_path) == got


def test_formats_new_name_and_force(tmp_path):
    (tmp_path / "statement.csv").write_text(STATEMENT, "utf-8")
    ok(run("--ledger", "led", "formats", "new", "statement.csv", "--name", "hbl",
           cwd=tmp_path))
    profile = tmp_path / "led" / "profiles" / "hbl.toml"
    assert re.search(r'^name = "hbl"$', profile.read_text("utf-8"), re.MULTILINE)
    profile.write_text("edited\n", "utf-8")
    refused = run("--ledger", "led", "formats", "new", "statement.csv", "--name", "hbl",
                  cwd=tmp_path)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert profile.read_text("utf-8") == "edited\n"
    ok(run("--ledger", "led", "formats", "new", "statement.csv", "--name", "hbl", "--force",
           cwd=tmp_path))
    assert profile.read_text("utf-8").startswith("# Draft profile for statement.csv")
    bad = run("--ledger", "led", "formats", "new", "statement.csv", "--name", "HBL Bank",
              cwd=tmp_path)
    assert (bad.returncode, bad.stderr) == (2, "error: --name 'HBL Bank' must be lower-case "
                                            "letters, digits, '-' or '_'\n  hint: e.g. --name "
                                            "hbl\n")


def test_formats_lists_bundled_formats_and_no_profiles_yet(tmp_path):
    listed = as_json(run("--ledger", "led", "formats", "--format", "json", cwd=tmp_path))
    assert {f["name"] for f in listed["formats"]} == set(EXPECTED.values())
    assert all(f["origin"] == "bundled" and f["fingerprint"] for f in listed["formats"])
    assert listed["profiles_dir"] == str(Path("led/profiles"))
    table = ok(run("--ledger", "led", "formats", cwd=tmp_path)).stdout
    assert "none yet; `ledger formats new FILE` drafts one" in table
    assert not (tmp_path / "led").exists()
