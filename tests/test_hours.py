"""Timesheets: three layouts parsed exactly, the paid/unpaid rule, and the CLI end to end."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import polars as pl
import pytest

from importers import hours
from importers.base import ImportOptions
from importers.registry import read
from ledger.core.errors import DataError
from tests.conftest import DATA
from tests.test_cli import DEMO, as_json, import_all, ok, run

HOURS = DATA / "hours"
SIMPLE = HOURS / "hours.csv"
TOGGL = HOURS / "TogglTrack_Report_Detailed_2024-06-01_2024-06-30.csv"
CLOCKIFY = HOURS / "Clockify_Time_Report_Detailed_06_01_2024-06_30_2024.csv"


def rows_of(path, **options):
    sheet, layout = hours.parse(read(path), ImportOptions(**options))
    return layout, sheet.select("date", "hours", "kind", "client", "line").rows()


def test_simple_csv_rows():
    layout, rows = rows_of(SIMPLE)
    assert layout == "simple"
    assert rows == [
        (dt.date(2024, 6, 3), 2.5, "bidding", None, 2),
        (dt.date(2024, 6, 4), 1.5, "paid", "Beta LLC", 3),
        (dt.date(2024, 6, 5), 6.0, "paid", "Beta LLC", 4),
        (dt.date(2024, 6, 10), 1.25, "admin", None, 5),
        (dt.date(2024, 6, 12), 3.0, "paid", "Acme Corp", 6),
        (dt.date(2024, 6, 20), 2.0, "learning", None, 7),
        (dt.date(2024, 6, 24), 1.75, "bidding", None, 8),
    ]


def test_toggl_billable_is_paid_tags_name_unpaid_kinds_untagged_is_admin():
    layout, rows = rows_of(TOGGL)
    assert layout == "toggl"
    assert rows == [(dt.date(2024, 6, 14), 2.25, "paid", "Beta LLC", 2),
                    (dt.date(2024, 6, 17), 1.5, "bidding", None, 3),
                    (dt.date(2024, 6, 18), 0.75, "admin", None, 4)]


def test_clockify_month_first_dates_need_no_flag_when_unambiguous():
    layout, rows = rows_of(CLOCKIFY)
    assert layout == "clockify"
    assert rows == [(dt.date(2024, 6, 21), 1.0, "paid", "Beta LLC", 2),
                    (dt.date(2024, 6, 25), 1.5, "bidding", None, 3)]


def test_numeric_dates_that_could_be_either_are_refused_at_their_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("date,hours\n06/06/2024,1\n10/06/2024,2\n03/06/2024,1\n")
    with pytest.raises(DataError) as err:
        hours.parse(read(path), ImportOptions())
    assert (err.value.message, err.value.line) == (
        "dates such as '10/06/2024' could be day-first or month-first", 3)
    assert [r[0] for r in rows_of(path, date_order="dmy")[1]] == [
        dt.date(2024, 6, 6), dt.date(2024, 6, 10), dt.date(2024, 6, 3)]
    path.write_text("date,hours\n06/06/2024,1\n")  # the same date either way: no question
    assert [r[0] for r in rows_of(path)[1]] == [dt.date(2024, 6, 6)]


@pytest.mark.parametrize(("text", "message", "line"), [
    ("date,hours,kind\n2024-06-01,two,paid\n", "hours must be a number such as 1.5 or 1:30", 2),
    ("date,hours,kind\n2024-06-01,1,coffee\n",
     "kind 'coffee' is not one of paid, bidding, admin, learning", 2),
    ("name,email\nx,y\n", "not a timesheet (first line: 'name,email')", 1),
    ("date,hours\n", "the timesheet has no rows", None),
])
def test_bad_timesheets_say_what_and_where(tmp_path, text, message, line):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        hours.parse(read(path), ImportOptions())
    assert (err.value.message, err.value.line) == (message, line)


def frame(**columns):
    return pl.DataFrame(columns)


def test_platform_hours_win_over_timesheet_paid_hours_for_the_same_client():
    valued = frame(kind=["earning", "earning"], hours=[10.0, None],
                   counterparty=["Acme", "Beta"], source=["upwork", "upwork"],
                   value=[Decimal(100), Decimal(50)])
    sheet = frame(kind=["paid", "paid", "bidding", "admin"], hours=[4.0, 3.0, 2.0, 0.5],
                  client=["Acme", "Beta", None, None], origin=["source"] * 4)
    paid, unpaid, per_client = hours.combine(valued, sheet)
    assert (paid, unpaid, per_client) == (13.0, 2.5, {"Acme": 10.0, "Beta": 3.0})


# --- through the CLI --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_imported(tmp_path_factory):
    """The demo exports imported once per module (read-only: tests use `demo_copy`)."""
    base = tmp_path_factory.mktemp("hours-demo")
    import_all("led", cwd=base)
    shutil.copy(DEMO / "rates.csv", base / "led" / "rates.csv")
    (base / "led" / "ledger.toml").write_text('home_currency = "PKR"\n')
    return base / "led"


@pytest.fixture
def demo_copy(demo_imported, tmp_path):
    shutil.copytree(demo_imported, tmp_path / "led")
    return tmp_path


def june(cwd):
    return as_json(run("--ledger", "led", "report", "--month", "2024-06", "--format", "json",
                       cwd=cwd))


def test_hours_change_net_hourly_exactly_as_hand_computed(demo_copy):
    before = june(demo_copy)
    assert before["totals"]["unpaid_hours"] == "0.00"
    ok(run("--ledger", "led", "hours", "import", SIMPLE, TOGGL, CLOCKIFY, cwd=demo_copy))
    after = june(demo_copy)
    rows = as_json(run("--ledger", "led", "transactions", "--month", "2024-06", "--format",
                       "json", cwd=demo_copy))
    billed = sum(r["hours"] for r in rows if r["hours"] and r["kind"] == "earning")
    platform = Decimal(str(round(billed, 4)))  # hours are measured to 1/10000 h
    assert before["totals"]["hours"] == f"{platform:.2f}"
    beta = Decimal("1.5") + 6 + Decimal("2.25") + 1  # Acme's 3 h are already billed on Upwork
    unpaid = Decimal("2.5") + Decimal("1.25") + 2 + Decimal("1.75") + Decimal("1.5") \
        + Decimal("0.75") + Decimal("1.5")
    assert after["totals"]["hours"] == f"{platform + beta:.2f}"
    assert after["totals"]["unpaid_hours"] == f"{unpaid:.2f}"
    net = Decimal(after["totals"]["net"])
    assert after["totals"]["net"] == before["totals"]["net"]
    assert after["totals"]["net_hourly"] == f"{net / (platform + beta):.2f}"
    assert after["totals"]["net_hourly_all"] == f"{net / (platform + beta + unpaid):.2f}"
    clients = {c["client"]: c for c in after["by_client"]}
    assert clients["Beta LLC"]["hours"] == f"{beta:.2f}"
    assert clients["Beta LLC"]["net_hourly"] == \
        f"{Decimal(clients['Beta LLC']['net']) / beta:.2f}"
    table = ok(run("--ledger", "led", "report", "--month", "2024-06", cwd=demo_copy)).stdout
    assert f"unpaid {unpaid:.2f} h" in table


def test_hours_import_is_idempotent_and_undoable(demo_copy):
    first = as_json(run("--ledger", "led", "hours", "import", SIMPLE, "--json", cwd=demo_copy))
    again = as_json(run("--ledger", "led", "hours", "import", SIMPLE, "--json", cwd=demo_copy))
    assert [(f["added"], f["duplicates"]) for f in (*first["files"], *again["files"])] == \
        [(7, 0), (0, 7)]
    assert june(demo_copy)["totals"]["unpaid_hours"] == "7.50"
    ok(run("--ledger", "led", "rebuild", cwd=demo_copy))
    assert june(demo_copy)["totals"]["unpaid_hours"] == "7.50"
    undone = ok(run("--ledger", "led", "undo", first["files"][0]["import_id"][:10],
                    cwd=demo_copy))
    assert "7 rows removed" in undone.stdout
    assert june(demo_copy)["totals"]["unpaid_hours"] == "0.00"


def test_fixed_price_hours_from_ledger_toml(demo_copy):
    config = demo_copy / "led" / "ledger.toml"
    config.write_text(config.read_text() + '\n[[hours]]\nclient = "Beta LLC"\n'
                      'month = "2024-06"\nhours = 12\n\n[[hours]]\nmonth = "2024-06"\n'
                      'hours = 5\nkind = "bidding"\n')
    report = june(demo_copy)
    assert {c["client"]: c["hours"] for c in report["by_client"]}["Beta LLC"] == "12.00"
    assert report["totals"]["unpaid_hours"] == "5.00"
    shown = as_json(run("--ledger", "led", "hours", "show", "--month", "2024-06", "--json",
                        cwd=demo_copy))
    beta = next(c for c in shown["clients"] if c["client"] == "Beta LLC")
    assert (beta["paid"], beta["paid_from"]) == ("12.00", "ledger.toml")


def test_bad_hours_entry_in_ledger_toml_is_a_usage_error(demo_copy):
    (demo_copy / "led" / "ledger.toml").write_text('[[hours]]\nclient = "Beta LLC"\n')
    result = run("--ledger", "led", "report", cwd=demo_copy)
    assert result.returncode == 2
    assert "[[hours]] entry 1 needs month = \"YYYY-MM\" and hours" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_timesheet_writes_nothing(demo_copy):
    bad = demo_copy / "bad.csv"
    bad.write_text("date,hours,kind\n2024-06-01,1,coffee\n")
    result = run("--ledger", "led", "hours", "import", SIMPLE, "bad.csv", cwd=demo_copy)
    assert (result.returncode, result.stderr) == (
        1, "bad.csv:2: kind 'coffee' is not one of paid, bidding, admin, learning\n"
        "  hint: paid = billed to a client; bidding, admin, learning are unpaid\n")
    assert not (demo_copy / "led" / "hours.parquet").exists()
