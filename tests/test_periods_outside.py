"""Periods the ledger's rows do not reach, through the real CLI on the demo ledger (rows from
April to June 2024): `reconcile --as-of` before the period is refused and no age is ever
negative; a report of a month with no rows says so, and shows no share of a zero gross."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from tests.test_cli import as_json, import_demo, ok, run


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return import_demo(tmp_path_factory.mktemp("outside"))


def _ledger(demo: Path, *args: str):
    return run("--ledger", demo.name, *args, cwd=demo.parent)


@pytest.mark.parametrize("twice", [False, True], ids=["typer-free", "app"])
def test_an_as_of_before_the_period_reconciled_is_refused(demo, twice):
    month = ["--month", "2024-06"] * (2 if twice else 1)  # twice: the app parses the line
    result = _ledger(demo, "reconcile", *month, "--as-of", "2024-05-31")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --as-of 2024-05-31 is before the period reconciled (June 2024: 2024-06-01 to "
        "2024-06-30)\n  hint: money in transit is aged from --as-of: give a day from 2024-06-01 "
        "on, or leave it out for today\n")
    ok(_ledger(demo, "reconcile", *month, "--as-of", "2024-06-01"))


@pytest.mark.parametrize("as_of", ["2024-06-01", "2024-06-25", "2024-07-20"])
def test_money_in_transit_is_aged_from_as_of_and_never_negative(demo, as_of):
    data = as_json(_ledger(demo, "reconcile", "--month", "2024-06", "--as-of", as_of,
                           "--format", "json"))
    assert data["in_transit"]
    day = dt.date.fromisoformat(as_of)
    for item in data["in_transit"]:
        assert item["age_days"] == max(0, (day - dt.date.fromisoformat(item["date"])).days)
        assert item["status"] == ("overdue" if item["age_days"] > item["usual_days"]
                                  else "in_transit")
    table = ok(_ledger(demo, "reconcile", "--month", "2024-06", "--as-of", as_of)).stdout
    ages = [int(n) for n in re.findall(r"· (-?\d+) days \(usually", table)]
    assert ages == [item["age_days"] for item in data["in_transit"]]


def _span(demo: Path) -> tuple[str, str]:
    dates = [row["date"] for row in as_json(_ledger(demo, "transactions", "--limit", "0",
                                                    "--format", "json"))]
    return min(dates), max(dates)


@pytest.mark.parametrize("twice", [False, True], ids=["typer-free", "app"])
def test_a_month_without_rows_is_reported_as_zeros_and_said(demo, twice):
    first, last = _span(demo)
    said = f"no rows in January 2030; the ledger has rows from {first} to {last}"
    month = ["--month", "2030-01"] * (2 if twice else 1)
    table = ok(_ledger(demo, "report", *month))
    assert table.stderr == f"note: {said}\n"
    assert "no rows in" not in table.stdout  # said once, beside the table
    gross = next(line for line in table.stdout.splitlines() if "Gross earned" in line)
    assert "0.00" in gross and "%" not in gross  # a zero gross is no 100% of itself
    data = json.loads(ok(_ledger(demo, "report", *month, "--format", "json")).stdout)
    assert data["rows"] == 0 and data["totals"]["gross"] == "0.00"
    assert data["warnings"][0] == said
    csv_run = ok(_ledger(demo, "report", *month, "--format", "csv"))
    assert csv_run.stderr == f"note: {said}\n" and csv_run.stdout.startswith("section,")


def test_a_month_with_rows_has_no_such_note(demo):
    table = ok(_ledger(demo, "report", "--month", "2024-06"))
    assert table.stderr == ""
    gross = next(line for line in table.stdout.splitlines() if "Gross earned" in line)
    assert "100%" in gross
    data = json.loads(ok(_ledger(demo, "report", "--month", "2024-06", "--format", "json")).stdout)
    assert data["rows"] > 0 and not any(w.startswith("no rows") for w in data["warnings"])
