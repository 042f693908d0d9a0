"""End-to-end through the real CLI: an Indian bank statement with a client's IMPS credit is
imported; the report flags the unclassified amount; one [[rules]] entry in ledger.toml makes
it that client's earning in report, transactions, export and payouts, with the rule named,
without importing again; a malformed rule is a clear error naming it (exit 2)."""

from __future__ import annotations

import csv
import io
import json

from ledger.store import rule_hits
from tests.test_cli import ok, run

STATEMENT = """HDFC BANK Ltd.,,,,,,
Account No :50100123456789,,,,,,
,,,,,,
Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance
02/04/24,POS 512345XXXXXX1234 AMAZON PAY INDIA,0000000000000000,02/04/24,"2,499.00",,"7,501.00"
12/04/24,UPI-MOM SHARMA-MOM@OKSBI-FAMILY,0000409412345678,12/04/24,"5,000.00",,"2,501.00"
30/04/24,IMPS-412345678901-ACME LLC-HDFC-XXXXXXX1234-INVOICE 12,0000412345678901,30/04/24,,"20,000.00","22,501.00"
"""  # noqa: E501

SETTINGS = """home_currency = "INR"

[[workers]]
name = "Ravi"
currency = "INR"

[[splits]]
id = "ravi-acme"
worker = "Ravi"
client = "Acme*"
percent_of_gross = "10"
"""

RULE = """
[[rules]]
id = "acme-imps"
description = "IMPS.*ACME"
sign = "credit"
set = { kind = "earning", client = "Acme LLC" }
"""


def report(cwd) -> dict:
    return json.loads(ok(run("--ledger", "led", "report", "--month", "2024-04", "--format",
                             "json", cwd=cwd)).stdout)


def test_one_rule_makes_a_bank_credit_a_clients_earning_without_reimporting(tmp_path):
    (tmp_path / "hdfc.csv").write_text(STATEMENT)
    (tmp_path / "led").mkdir()
    config = tmp_path / "led" / "ledger.toml"
    config.write_text(SETTINGS)
    ok(run("--ledger", "led", "import", "hdfc.csv", cwd=tmp_path))

    before = report(tmp_path)
    assert before["totals"]["gross"] == "0.00" and before["totals"]["other"] == "17501.00"
    [warning] = [w for w in before["warnings"] if w.startswith("Other adjustments")]
    assert "17,501.00 INR come from 2 unclassified row(s)" in warning
    listing = warning.split("`")[1]
    assert listing == "ledger transactions --unclassified --from 2024-04-01 --to 2024-04-30"
    table = ok(run("--ledger", "led", "report", "--month", "2024-04", cwd=tmp_path)).stdout
    assert "warning: Other adjustments 17,501.00 INR" in table and "[[rules]]" in table
    html = ok(run("--ledger", "led", "report", "--month", "2024-04", "--format", "html",
                  cwd=tmp_path)).stdout
    assert "Other adjustments 17,501.00 INR" in html
    largest = ok(run("--ledger", "led", *listing.split()[1:], "--format", "json",
                     cwd=tmp_path)).stdout
    assert [r["amount"] for r in json.loads(largest)] == ["20000.0000", "-2499.0000"]
    drafts = ok(run("--ledger", "led", "rules", "suggest", cwd=tmp_path)).stdout
    assert "client = 'ACME LLC'" in drafts

    stored = {p.name: p.read_bytes() for p in (tmp_path / "led").iterdir() if p.is_file()
              and p.name != "ledger.toml"}
    config.write_text(SETTINGS + RULE)

    after = report(tmp_path)
    assert after["totals"]["gross"] == "20000.00"
    assert [(c["client"], c["gross"]) for c in after["by_client"]] == [
        ("Acme LLC", "20000.00"), (None, "0.00")]  # the unclassified debit: no client's
    [named] = [r for r in after["rules"] if r["id"] == "user:acme-imps"]
    assert named["figures"] == {"gross": "20000.00"} and named["confidence"] == "user"
    table = ok(run("--ledger", "led", "report", "--month", "2024-04", cwd=tmp_path)).stdout
    assert "user:acme-imps" in table

    rows = json.loads(ok(run("--ledger", "led", "transactions", "--format", "json",
                             cwd=tmp_path)).stdout)
    [acme] = [r for r in rows if r["counterparty"] == "Acme LLC"]
    assert (acme["kind"], acme["origin"]) == ("earning", "rule:user:acme-imps")
    shown = ok(run("--ledger", "led", "transactions", cwd=tmp_path)).stdout
    assert "Rule" in shown and "acme-imps" in shown

    exported = list(csv.DictReader(io.StringIO(ok(run(
        "--ledger", "led", "export", "--format", "csv", cwd=tmp_path)).stdout)))
    [row] = [r for r in exported if r["counterparty"] == "Acme LLC"]
    assert (row["kind"], row["origin"]) == ("earning", "rule:user:acme-imps")
    journal = ok(run("--ledger", "led", "export", "--format", "hledger", cwd=tmp_path)).stdout
    assert "2024-04-30 * Acme LLC" in journal and "origin: rule:user:acme-imps" in journal

    payouts = json.loads(ok(run("--ledger", "led", "payouts", "--month", "2024-04",
                                "--format", "json", cwd=tmp_path)).stdout)
    assert [(w["worker"], w["owed"]) for w in payouts["workers"]] == [("Ravi", "2000.00")]

    tested = ok(run("--ledger", "led", "rules", "test", cwd=tmp_path)).stdout
    assert "acme-imps: matches 1, applies to 1, changes 1 of 3 rows" in tested
    listed = ok(run("--ledger", "led", "rules", "list", cwd=tmp_path)).stdout
    assert "1. acme-imps: description 'IMPS.*ACME', sign 'credit'" in listed

    # nothing was imported again, nothing stored changed (the rule's rows were kept aside)
    assert stored == {p.name: p.read_bytes() for p in (tmp_path / "led").iterdir()
                      if p.is_file() and p.name not in ("ledger.toml", rule_hits.NAME)}
    assert (tmp_path / "led" / rule_hits.NAME).exists()


def test_a_malformed_rule_is_a_clear_error_naming_it(tmp_path):
    (tmp_path / "hdfc.csv").write_text(STATEMENT)
    (tmp_path / "led").mkdir()
    (tmp_path / "led" / "ledger.toml").write_text(
        SETTINGS + RULE.replace('sign = "credit"', 'sign = "credit"\nclinet = "Acme"'))
    ok(run("--ledger", "led", "import", "hdfc.csv", cwd=tmp_path))  # import needs no rules
    for command in (["report", "--month", "2024-04"], ["transactions"], ["rules", "test"],
                    ["export", "--format", "csv"]):
        failed = run("--ledger", "led", *command, cwd=tmp_path)
        assert failed.returncode == 2, failed.stderr
        first = failed.stderr.splitlines()[0]
        assert first.endswith("ledger.toml:17: [[rules]] 'acme-imps': clinet is not a rule key")
        assert "hint: match keys: source, account, description" in failed.stderr
        assert "Traceback" not in failed.stderr
