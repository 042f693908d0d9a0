"""Exports: golden hledger and beancount journals for a small ledger, every transaction
balanced (also for generated rows), the real hledger and bean-check accepting what we write,
CSV and Parquet giving back the canonical rows exactly, and the CLI end to end."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.core import schema
from ledger.core.errors import DataError
from ledger.reports import export, export_book
from tests.conftest import DATA, PAYPAL, UPWORK
from tests.export_tools import check_tool, tool
from tests.test_cli import ok, run

GOLDEN = Path(__file__).parent / "golden_exports"
"""Expected journals; `UPDATE_GOLDEN=1 make test` rewrites them (read the diff first)."""

ACCOUNT = re.compile(r"(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+")
"""A beancount account name (hledger accepts every one of them too)."""



def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- a tiny reader of what we write, to check balance from the text itself ------------------

POSTING = re.compile(r"^ {2,4}(?P<account>[A-Z]\S*) +(?P<amount>-?\d+(?:\.\d+)?) "
                     r"(?P<currency>[A-Z]{3})"
                     r"(?: @@ (?P<cost>\d+(?:\.\d+)?) (?P<cost_cur>[A-Z]{3}))?(?:  ; .*)?$")


def journal_weights(text: str) -> list[dict[str, Decimal]]:
    """Per transaction of an hledger or beancount text: the sum of its postings per currency
    (a `@@` posting at its cost)."""
    out: list[dict[str, Decimal]] = []
    for line in text.splitlines():
        if re.match(r"\d{4}-\d{2}-\d{2} [*!] ", line):
            out.append({})
            continue
        match = POSTING.match(line)
        if not match:
            continue
        amount, currency = Decimal(match["amount"]), match["currency"]
        if match["cost"]:
            amount = Decimal(match["cost"]).copy_sign(amount)
            currency = match["cost_cur"]
        out[-1][currency] = out[-1].get(currency, Decimal(0)) + amount
    return out


def postings_count(text: str) -> int:
    return sum(1 for line in text.splitlines() if POSTING.match(line))


def balanced(weights: dict[str, Decimal]) -> bool:
    return all(v == 0 for v in weights.values())


# --- golden journals ----------------------------------------------------------------------------

def test_golden_hledger(june):
    """What `ledger export --format hledger` writes: the rows as the report counts them,
    valued in the home currency (USD here), with prices and balance assertions."""
    book = export_book.build(june)
    text = export.to_hledger(book.rows, export.file_names(june), book)
    golden("june.journal", text)


def test_golden_beancount(june):
    book = export_book.build(june)
    text = export.to_beancount(book.rows, export.file_names(june), book)
    golden("june.beancount", text)


def test_accounts_and_provenance(june):
    rows = june.rows()
    txns = export.transactions(rows, export.file_names(june))
    assert len(txns) == rows.height - 1  # the two conversion legs are one transaction
    accounts = {p.account for t in txns for p in t.postings}
    assert {"Assets:Upwork", "Assets:PayPal", "Income:Freelance:Upwork",
            "Income:Freelance:PayPal", "Expenses:Fees:Platform:Upwork",
            "Expenses:Fees:Payment:PayPal", "Expenses:Fees:Payment:Upwork",
            "Assets:Transfers"} <= accounts
    assert all(ACCOUNT.fullmatch(a) for a in accounts)
    [conversion] = [t for t in txns if any(p.price for p in t.postings)]
    assert [(p.amount, p.currency, p.price) for p in conversion.postings] == [
        (Decimal("918.40"), "EUR", (Decimal("1000"), "USD")),
        (Decimal("-1000"), "USD", None)]
    assert {dict(p.meta)["line"] for p in conversion.postings} == {12, 13}
    fee = next(t for t in txns if dict(t.meta).get("ref") == "612340002")
    assert dict(fee.meta) == {"source": "upwork", "file": "classic.csv", "line": 13,
                              "id": "505c0ab3f5f75fa38bf115a6a14afd05", "ref": "612340002"}


def test_june_transactions_balance_in_the_text(june):
    rows, files = june.rows(), export.file_names(june)
    for text in (export.to_hledger(rows, files), export.to_beancount(rows, files)):
        weights = journal_weights(text)
        assert len(weights) == rows.height - 1
        assert all(balanced(w) for w in weights), weights


def test_amounts_keep_minor_units_and_never_round():
    assert export.amount_text(Decimal("-25.0000"), "USD") == "-25.00"
    assert export.amount_text(Decimal("1500.0000"), "JPY") == "1500"
    assert export.amount_text(Decimal("1.2340"), "KWD") == "1.234"
    assert export.amount_text(Decimal("0.1234"), "USD") == "0.1234"
    assert export.amount_text(Decimal("-0.0000"), "USD") == "0.00"


def test_account_names_are_sanitised():
    assert export.component("Upwork Escrow Inc.") == "UpworkEscrowInc"
    assert export.component("José Ñúñez & Co") == "JoseNunezCo"
    assert export.component("株式会社") == "Unknown"
    assert export.component(None) == "Unknown"
    assert export.account_path("bank:meezan") == "Bank:Meezan"
    assert export.account_path("paypal") == "PayPal"


# --- generated rows: every transaction balances, every name is valid --------------------------

def frame(records: list[dict]) -> pl.DataFrame:
    """Canonical rows from partial records (sensible defaults for the rest)."""
    if not records:
        return schema.empty()
    full = []
    for n, r in enumerate(records):
        full.append({"id": f"{n:032x}", "date": dt.date(2024, 6, 1 + n % 28), "source": "upwork",
                     "account": "upwork", "kind": "earning", "category": None,
                     "amount": Decimal("1"), "currency": "USD", "counterparty": None,
                     "contract": None, "hours": None, "description": f"row {n}", "ref": None,
                     "related_ref": None, "origin": "source", "import_id": "f" * 64,
                     "line": n + 2, **r})
    return schema.conform(pl.DataFrame(full, schema_overrides={
        "amount": pl.Decimal(38, 4), "kind": pl.String(), "hours": pl.Float64()}))


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
amounts = st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=4,
                      allow_nan=False, allow_infinity=False)
records = st.fixed_dictionaries({
    "kind": st.sampled_from(schema.KINDS),
    "amount": amounts,
    "currency": st.sampled_from(["USD", "EUR", "PKR", "JPY", "KWD"]),
    "account": st.sampled_from(["upwork", "paypal", "bank:meezan", "wise", "my account!"]),
    "counterparty": st.none() | TEXT,
    "description": TEXT,
    "category": st.none() | st.sampled_from(["wht", "vat", "service_fee"]),
    "related_ref": st.none() | st.sampled_from(["A", "B"]),
    "ref": st.none() | st.sampled_from(["A", "B", "C"]),
    "origin": st.sampled_from(["source", "rule:upwork.service_fee"]),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, max_size=12))
def test_generated_transactions_balance(items):
    rows = frame([{**r, "date": dt.date(2024, 6, 3)} for r in items])  # one day: pairs happen
    txns = export.transactions(rows)
    assert sum(len(t.postings) for t in txns) == 2 * rows.height - sum(
        1 for t in txns if any(p.price for p in t.postings)) * 2
    for t in txns:
        assert balanced(t.weights()), t
        assert all(ACCOUNT.fullmatch(p.account) for p in t.postings), t
    for text in (export.to_hledger(rows), export.to_beancount(rows)):
        weights = journal_weights(text)
        assert len(weights) == len(txns)
        assert postings_count(text) == sum(len(t.postings) for t in txns)
        assert all(balanced(w) for w in weights)


def awkward() -> pl.DataFrame:
    """Rows that test every escape: quotes, backslashes, ; | # in text, non-ASCII names,
    JPY/KWD and sub-cent amounts, both kinds of conversion pair and a lone leg."""
    return frame([
        {"description": 'He said "ok"; a\\b | c # d\nnext line', "counterparty": "José | Ñúñez",
         "amount": Decimal("1234.5600")},
        {"kind": "platform_fee", "amount": Decimal("-0.1234"), "description": "=SUM(A1)"},
        {"kind": "subcontractor_payout", "amount": Decimal("-7.5000"), "counterparty": "株式会社"},
        {"kind": "tax", "category": "wht", "amount": Decimal("-12.0000"), "account": "bank:hbl",
         "currency": "PKR", "source": "bank:hbl"},
        {"kind": "tax", "category": "vat", "amount": Decimal("-1.0000")},
        {"kind": "bank_fee", "amount": Decimal("-1.2340"), "currency": "KWD",
         "account": "bank:nbk"},
        {"kind": "earning", "amount": Decimal("150000.0000"), "currency": "JPY",
         "account": "wise"},
        {"kind": "adjustment", "amount": Decimal("3.0000")},
        {"kind": "other", "amount": Decimal("-2.0000"), "origin": "rule:demo"},
        {"kind": "transfer", "amount": Decimal("-400.0000"), "account": "payoneer"},
        # Payoneer: legs pointing at each other's ref
        {"kind": "fx", "amount": Decimal("-100.0000"), "account": "payoneer", "ref": "P1",
         "related_ref": "P2", "date": dt.date(2024, 6, 20)},
        {"kind": "fx", "amount": Decimal("27800.0000"), "currency": "PKR",
         "account": "payoneer", "ref": "P2", "related_ref": "P1", "date": dt.date(2024, 6, 20)},
        # Wise: legs sharing a related_ref
        {"kind": "fx", "amount": Decimal("-50.0000"), "currency": "EUR", "account": "wise",
         "related_ref": "W", "date": dt.date(2024, 6, 21)},
        {"kind": "fx", "amount": Decimal("54.2500"), "account": "wise", "related_ref": "W",
         "date": dt.date(2024, 6, 21)},
        # a leg whose partner is in no imported file
        {"kind": "fx", "amount": Decimal("10.0000"), "account": "wise", "related_ref": "L"},
    ])


def test_awkward_rows_pair_conversions_and_escape_text():
    rows = awkward()
    txns = export.transactions(rows)
    priced = [t for t in txns if any(p.price for p in t.postings)]
    assert len(priced) == 2 and len(txns) == rows.height - 2
    assert all(balanced(t.weights()) for t in txns)
    accounts = {p.account for t in txns for p in t.postings}
    assert {"Expenses:Subcontractors:Unknown", "Expenses:Tax:Withholding", "Expenses:Tax:VAT",
            "Expenses:Fees:Bank:Nbk", "Equity:Conversions", "Income:Adjustments",
            "Expenses:Other", "Assets:Transfers"} <= accounts
    journal = export.to_hledger(rows)
    assert "2024-06-01 * José / Ñúñez | He said \"ok\", a\\b | c # d next line" in journal
    bean = export.to_beancount(rows)
    assert '2024-06-01 * "José | Ñúñez" "He said \\"ok\\"; a\\\\b | c # d next line"' in bean
    assert "origin: rule:demo" in journal and '2024-06-09 ! "Upwork"' in bean


def test_derived_rows_give_the_reports_figures(ledger, options):
    """Fiverr shows earnings net of its 20%: with `derived` the journal has the gross and the
    fee as the report counts them, flagged `!` with their rule."""
    from ledger.reports import report

    ledger.import_files([DATA / "fiverr" / "earnings.csv"], options)
    stored, _ = export.select(ledger, month="2024-06")
    rows, label = export.select(ledger, month="2024-06", derived=True)
    assert label == "June 2024" and rows.height > stored.height
    totals = report.build(ledger, month="2024-06")["totals"]
    sums: dict[str, Decimal] = {}
    txns = export.transactions(rows, export.file_names(ledger))
    for t in txns:
        assert balanced(t.weights())
        for p in t.postings:
            sums[p.account] = sums.get(p.account, Decimal(0)) + p.amount
    assert -sums["Income:Freelance:Fiverr"] == Decimal(totals["gross"])
    assert sums["Expenses:Fees:Platform:Fiverr"] == Decimal(totals["platform_fees"])
    assert sums["Expenses:Fees:Payment:Fiverr"] == Decimal(totals["payment_fees"])
    flagged = [t for t in txns if t.flag == "!"]
    assert flagged and all(dict(t.meta)["origin"].startswith("rule:fiverr.service_fee")
                           for t in flagged)
    plain = export.transactions(stored)
    assert all(t.flag == "*" for t in plain)


# --- the real tools -----------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["june", "awkward"])
def test_hledger_accepts_the_journal(which, june, tmp_path):
    hledger = tool("hledger")
    rows = june.rows() if which == "june" else awkward()
    path = tmp_path / "ledger.journal"
    path.write_text(export.to_hledger(rows, export.file_names(june)), encoding="utf-8")
    check_tool(hledger, "-f", path, "balance")
    result = check_tool(hledger, "-f", path, "balance", "-O", "csv")
    if which == "june":
        balances = dict(csv.reader(io.StringIO(result.stdout)))
        assert balances["Assets:PayPal"] == "632.81 USD"  # the EUR came in and went out
        assert balances["Assets:Transfers"] == "918.40 EUR, 100.00 USD"  # on its way
        assert balances["Income:Freelance:PayPal"] == "-1400.00 USD"
        assert balances["Expenses:Fees:Payment:PayPal"] == "54.20 USD"
    # hledger checks every transaction balances (with the @@ cost) while reading
    check_tool(hledger, "-f", path, "check", "-s")


@pytest.mark.parametrize("which", ["june", "awkward"])
def test_bean_check_accepts_the_file(which, june, tmp_path):
    bean_check = tool("bean-check")
    rows = june.rows() if which == "june" else awkward()
    path = tmp_path / "ledger.beancount"
    path.write_text(export.to_beancount(rows, export.file_names(june)), encoding="utf-8")
    result = check_tool(bean_check, path)
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


# --- CSV and Parquet: exact round trips -----------------------------------------------------------

def test_csv_round_trip_is_exact(june):
    rows = june.rows()
    text = export.to_csv(rows)
    assert text.splitlines()[0] == ",".join(schema.columns())
    assert ",-25.0000,USD," in text
    back = export.read_csv(text)
    assert back.schema == rows.schema and back.equals(rows)
    assert back["amount"].to_list() == rows["amount"].to_list()  # Decimal, not float


def test_csv_round_trip_of_awkward_text():
    rows = awkward().with_columns(
        pl.Series("contract", ["", "'quoted", "+1", "-x", "@me", None, *[None] * 9]),
        pl.Series("hours", [14.333333333333334, 0.1, None, 1e-7, *[None] * 11]))
    text = export.to_csv(rows)
    assert "'=SUM(A1)" in text and "''quoted" in text  # a spreadsheet runs no formula
    back = export.read_csv(text)
    assert back.equals(rows)
    assert back["contract"].to_list()[:6] == ["", "'quoted", "+1", "-x", "@me", None]


def test_read_csv_names_what_is_wrong(tmp_path):
    with pytest.raises(DataError) as info:
        export.read_csv("date,amount\n2024-06-01,1\n", where="x.csv")
    assert info.value.path == "x.csv" and "expected" in info.value.message
    bad = export.to_csv(awkward()).replace("1234.5600", "12,34", 1)
    with pytest.raises(DataError):
        export.read_csv(bad)


def test_parquet_round_trip_is_exact(june, tmp_path):
    rows = june.rows()
    path = tmp_path / "rows.parquet"
    export.write_parquet(rows, path)
    back = export.read_parquet(path)
    assert back.schema == rows.schema and back.equals(rows)
    odd = awkward()
    export.write_parquet(odd, path)
    assert export.read_parquet(path).equals(odd)


# --- the command ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_ledger(tmp_path_factory):
    """One imported ledger for the module's CLI tests (exports only read it)."""
    base = tmp_path_factory.mktemp("cli")
    (base / "l").mkdir()
    (base / "l" / "rates.csv").write_text("date,from,to,rate\n2024-06-03,EUR,USD,1.0850\n")
    ok(run("--ledger", "l", "import", UPWORK, PAYPAL, cwd=base))
    return base


def test_cli_hledger_matches_the_golden_journal(cli_ledger):
    result = ok(run("--ledger", "l", "export", "--format", "hledger", "-o", "out.journal",
                    cwd=cli_ledger))
    assert "wrote out.journal: 24 rows (all rows)" in result.stderr
    assert (cli_ledger / "out.journal").read_text("utf-8") == \
        (GOLDEN / "june.journal").read_text("utf-8")


def test_cli_currency_values_the_journal_in_another_currency(cli_ledger):
    result = ok(run("--ledger", "l", "export", "--format", "hledger", "--month", "2024-06",
                    "--currency", "EUR", cwd=cli_ledger))
    assert "bal Income Expenses --value=then,EUR" in result.stdout
    price = r"^P 2024-06-03 USD [\d.]+ EUR  ; user, rates\.csv:2 \(inverse\)"
    assert re.search(price, result.stdout, re.M), result.stdout
    bad = run("--ledger", "l", "export", "--format", "hledger", "--currency", "XYZ",
              cwd=cli_ledger)
    assert bad.returncode == 2 and "unknown currency 'XYZ'" in bad.stderr


def test_cli_beancount_to_stdout_for_a_month(cli_ledger):
    result = ok(run("--ledger", "l", "export", "--format", "beancount", "--month", "2024-05",
                    cwd=cli_ledger))
    assert "2 rows in 2 transactions, 2024-05-30 to 2024-05-30" in result.stdout
    assert "2024-05-30 open Assets:Upwork" in result.stdout
    assert result.stderr == ""


def test_cli_csv_and_parquet_round_trip(cli_ledger):
    from ledger.store.directory import Ledger

    rows = Ledger(cli_ledger / "l").rows()
    june = rows.filter(pl.col("date") >= dt.date(2024, 6, 1))
    result = ok(run("--ledger", "l", "export", "--format", "csv", "--from", "2024-06-01",
                    "--to", "2024-06-30", cwd=cli_ledger))
    assert export.read_csv(result.stdout).equals(june)
    ok(run("--ledger", "l", "export", "--format", "parquet", "--year", "2024", "-o",
           "rows.parquet", cwd=cli_ledger))
    assert export.read_parquet(cli_ledger / "rows.parquet").equals(rows)


def test_cli_derived_beancount_passes_bean_check(tmp_path):
    bean_check = tool("bean-check")
    ok(run("--ledger", "l", "import", DATA / "fiverr" / "earnings.csv", cwd=tmp_path))
    ok(run("--ledger", "l", "export", "--format", "beancount", "--derived", "-o", "f.beancount",
           cwd=tmp_path))
    text = (tmp_path / "f.beancount").read_text("utf-8")
    assert 'origin: "rule:fiverr.service_fee.' in text
    check_tool(bean_check, tmp_path / "f.beancount")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--format", "parquet"], 2, "error: Parquet is binary: say which file to write\n"
                                 "  hint: e.g. ledger export --format parquet -o ledger.parquet"),
    (["--format", "csv", "-o", "missing/x.csv"], 2,
     "missing/x.csv: no folder missing to write into\n"
     "  hint: create it first, or write somewhere else"),
    (["--format", "csv", "--month", "2024-13"], 2,
     "error: --month '2024-13' is not YYYY-MM\n  hint: e.g. --month 2024-06"),
    (["--format", "hledger", "--month", "2024-06", "--year", "2024"], 2,
     "error: choose one of --month, --year or --from/--to"),
])
def test_cli_usage_errors(cli_ledger, args, code, message):
    result = run("--ledger", "l", "export", *args, cwd=cli_ledger)
    assert result.returncode == code
    assert result.stderr.strip() == message and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_cli_empty_ledger_is_a_data_error(tmp_path):
    (tmp_path / "none").mkdir()  # a ledger with no rows yet (a missing one: test_missing_ledger)
    result = run("--ledger", "none", "export", "--format", "hledger", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == "none: the ledger is empty\n" \
        "  hint: import exports first: ledger import FILE\n"


def test_cli_empty_period_writes_an_empty_export_and_says_so(cli_ledger):
    result = ok(run("--ledger", "l", "export", "--format", "beancount", "--month", "2023-01",
                    cwd=cli_ledger))
    assert "0 rows in 0 transactions" in result.stdout
    assert "note: no rows in January 2023" in result.stderr


def test_cli_help_has_examples(tmp_path):
    result = ok(run("export", "--help", cwd=tmp_path))
    assert "Examples:" in result.stdout and "ledger export --format beancount" in result.stdout
