"""The value chain per contract (client paid -> platform kept -> wallet/bank/FX took ->
taxes -> sub-workers got -> you kept, with shares) in `ledger payouts` and `ledger report`,
table, JSON and CSV; every chain foots to the cent."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from tests.test_cli import as_json, ok, run
from tests.test_payouts import books_dir  # noqa: F401  (the module-scoped fixture)

STEPS = ["client_paid", "platform", "payment", "taxes", "sub_workers", "you_kept"]
FROM = {"client_paid": "gross", "platform": "platform", "payment": "payment",
        "taxes": "taxes", "sub_workers": "owed", "you_kept": "margin"}


def test_each_contract_chain_foots_and_matches_the_contract_table(books_dir):  # noqa: F811
    data = as_json(run("--ledger", books_dir, "payouts", "--month", "2024-06", "--format",
                       "json", cwd=books_dir.parent))
    contracts = {c["contract"]: c for c in data["contracts"]}
    assert {c["contract"] for c in data["value_chains"]} == set(contracts)
    for chain in data["value_chains"]:
        steps = {s["step"]: s for s in chain["steps"]}
        assert [s["step"] for s in chain["steps"]] == STEPS
        amounts = {k: Decimal(s["amount"]) for k, s in steps.items()}
        assert amounts["client_paid"] == sum(v for k, v in amounts.items()
                                             if k != "client_paid")
        line = contracts[chain["contract"]]
        for step, key in FROM.items():
            assert amounts[step] == Decimal(line[key]), (chain["contract"], step)
        gross = amounts["client_paid"]
        for step, s in steps.items():
            if gross > 0:
                assert Decimal(s["share"]) == (amounts[step] / gross).quantize(Decimal("1E-4"))
            else:
                assert s["share"] is None
    acme = next(c for c in data["value_chains"] if c["contract"] == "Acme Corp")
    assert {s["step"]: s["share"] for s in acme["steps"]}["platform"] == "0.1000"


def test_the_report_shows_the_same_chains(books_dir):  # noqa: F811
    payouts = as_json(run("--ledger", books_dir, "payouts", "--month", "2024-06", "--format",
                          "json", cwd=books_dir.parent))
    report = as_json(run("--ledger", books_dir, "report", "--month", "2024-06", "--format",
                         "json", cwd=books_dir.parent))
    assert report["value_chains"] == payouts["value_chains"]
    table = ok(run("--ledger", books_dir, "report", "--month", "2024-06",
                   cwd=books_dir.parent)).stdout
    assert "Value chain by contract" in table and "Sub-workers got" in table
    rows = list(csv.reader(io.StringIO(ok(run(
        "--ledger", books_dir, "report", "--month", "2024-06", "--format", "csv",
        cwd=books_dir.parent)).stdout)))
    assert ["value_chains", "Acme Corp", "platform_share", "0.1000"] in rows
    prows = list(csv.reader(io.StringIO(ok(run(
        "--ledger", books_dir, "payouts", "--month", "2024-06", "--format", "csv",
        cwd=books_dir.parent)).stdout)))
    assert [r for r in prows if r[0] == "value_chains"] == [r for r in rows
                                                            if r[0] == "value_chains"]
