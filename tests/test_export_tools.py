"""The exported journals in the real tools, as a new user would run them (issue: exports the
plain-text tools accept in strict mode and that reproduce our report independently).

The demo's exports go through `ledger import` and `ledger export`; then `hledger check -s`,
`bean-check` and fava's loader must accept the journals, and hledger's and beancount's
income statements in PKR (each posting valued at its own date's price, the exported `P` /
`price` entries) must equal `ledger report`'s gross, every cost line and net to the cent.
The Parquet export must read in DuckDB with the documented types, and a 50k-row export must
pass both checkers.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import polars as pl
import pytest

from ledger.core.demo import SETTINGS, demo_dir
from tests.export_tools import check_tool, module, run_tool, tool
from tests.test_cli import import_all, ok, run

LINES = {
    "gross": ("Income:Freelance",),
    "platform_fees": ("Expenses:Fees:Platform",),
    "payment_fees": ("Expenses:Fees:Payment",),
    "fx_cost": ("Expenses:FX",),
    "bank_deductions": ("Expenses:Fees:Bank",),
    "taxes": ("Expenses:Tax",),
    "subcontractor_payouts": ("Expenses:Subcontractors",),
    "expenses": ("Expenses:Business",),
    "other": ("Income:Other", "Income:Adjustments", "Expenses:Other"),
}
"""Report line -> the exported accounts it is the sum of (docs/export.md has this table).
Income and `other` are credits in a journal, so their report figure is minus the sum."""

CREDITS = ("gross", "other")

PARQUET_TYPES = {
    "id": "VARCHAR", "date": "DATE", "source": "VARCHAR", "account": "VARCHAR",
    "kind": "VARCHAR", "category": "VARCHAR", "amount": "DECIMAL(38,4)", "currency": "VARCHAR",
    "counterparty": "VARCHAR", "contract": "VARCHAR", "hours": "DOUBLE",
    "description": "VARCHAR", "ref": "VARCHAR", "related_ref": "VARCHAR",
    "counter_amount": "DECIMAL(38,4)", "counter_currency": "VARCHAR",
    "fee_included": "DECIMAL(38,4)", "origin": "VARCHAR", "import_id": "VARCHAR", "line": "BIGINT",
}
"""What DuckDB sees in `ledger export --format parquet` (documented in docs/export.md)."""

CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo's exports imported into a ledger `l` (its ledger.toml: PKR; its rates.csv)."""
    base = tmp_path_factory.mktemp("demo")
    (base / "l").mkdir()
    for name in SETTINGS:
        shutil.copyfile(demo_dir() / name, base / "l" / name)
    import_all("l", cwd=base)
    return base


@pytest.fixture(scope="module")
def exported(demo):
    """The demo's journals for a period, exported once per module (tests only read them)."""
    made: dict[tuple[str, ...], tuple[Path, Path]] = {}

    def get(*period: str) -> tuple[Path, Path]:
        if period not in made:
            made[period] = export_both(demo, *period)
        return made[period]

    return get


def export_both(base: Path, *period: str) -> tuple[Path, Path]:
    name = "-".join(period).replace("--", "") or "all"
    journal, bean = base / f"{name}.journal", base / f"{name}.beancount"
    ok(run("--ledger", "l", "export", "--format", "hledger", *period, "-o", journal.name,
           cwd=base))
    ok(run("--ledger", "l", "export", "--format", "beancount", *period, "-o", bean.name,
           cwd=base))
    return journal, bean


def query(accounts: tuple[str, ...]) -> list[str]:
    return [f"^{re.escape(a)}(:|$)" for a in accounts]


def hledger_total(journal: Path, accounts: tuple[str, ...], *valuation: str) -> Decimal:
    """hledger's total of these accounts, valued as asked, as it prints it (to the cent)."""
    result = check_tool(tool("hledger"), "-f", journal, "bal", *query(accounts), *valuation,
                        "-O", "csv")
    total = result.stdout.strip().splitlines()[-1].split(",")[1].strip('"')
    assert total == "0" or total.endswith(" PKR"), result.stdout  # one commodity: all valued
    return Decimal(total.removesuffix(" PKR"))


def beancount_sums(bean: Path) -> dict[str, Decimal]:
    """Exact per-account sums of `convert(position, 'PKR', date)` through beanquery's API."""
    loader = module("beancount.loader")
    beanquery = module("beanquery.query")
    entries, errors, options = loader.load_file(str(bean))
    assert errors == []
    _, rows = beanquery.run_query(
        entries, options, "SELECT account, sum(convert(position, 'PKR', date)) "
        "WHERE account ~ '^(Income|Expenses)' GROUP BY account")
    out = {}
    for account, inventory in rows:
        [position] = inventory.get_positions()
        assert position.units.currency == "PKR"
        out[account] = position.units.number
    return out


def statement(sums: dict[str, Decimal], accounts: tuple[str, ...]) -> Decimal:
    return sum((v for a, v in sums.items()
                if any(a == p or a.startswith(p + ":") for p in accounts)), Decimal(0))


@pytest.mark.parametrize("period", [("--month", "2024-06"), ("--year", "2024")])
def test_tools_reproduce_the_report_to_the_cent(demo, exported, period):
    """`hledger bal ... --value=then,PKR` and bean-query's `convert(position, 'PKR', date)`
    give the report's gross, each cost line and net. `--value=then` is the mode that matches:
    each posting valued at the price on its own date, as the report values each row."""
    report = json.loads(ok(run("--ledger", "l", "report", *period, "--format", "json",
                               cwd=demo)).stdout)
    assert report["currency"] == "PKR"
    totals = {k: Decimal(v) for k, v in report["totals"].items()
              if k in LINES or k == "net"}
    assert totals["fx_cost"] > 0  # the demo has conversions: the FX account is not empty
    journal, bean = exported(*period)
    exact = beancount_sums(bean)
    for line, accounts in LINES.items():
        sign = -1 if line in CREDITS else 1
        from_hledger = sign * hledger_total(journal, accounts, "--value=then,PKR")
        from_beancount = sign * statement(exact, accounts).quantize(CENT, ROUND_HALF_EVEN)
        assert from_hledger == from_beancount == totals[line], (line, from_hledger,
                                                                from_beancount, totals[line])
    everything = ("Income", "Expenses")
    net = -hledger_total(journal, everything, "--value=then,PKR")
    assert net == -hledger_total(journal, everything, "-X", "PKR", "--value=then")
    exact_net = -statement(exact, everything)
    assert net == exact_net.quantize(CENT, ROUND_HALF_EVEN)
    # The report rounds each line once and foots net from the rounded lines (so it adds up on
    # paper); the tools round the exact total. The two can differ by half a cent per line;
    # in the demo they do not.
    footed = sum((-totals[k] if k not in CREDITS else totals[k] for k in LINES), Decimal(0))
    assert totals["net"] == footed
    assert net == totals["net"], f"rounding: tools {net}, report {totals['net']} " \
        f"(exact {exact_net}; the report foots its rounded lines)"
    bean_net = check_tool(tool("bean-query"), "-f", "csv", bean,
                          "SELECT sum(convert(position, 'PKR', date)) AS net "
                          "WHERE account ~ '^(Income|Expenses)'").stdout
    assert Decimal(bean_net.splitlines()[1].split()[0]) == -net


def test_strict_checks_and_fava_accept_the_demo_export(exported):
    journal, bean = exported()
    text = journal.read_text("utf-8")
    check_tool(tool("hledger"), "-f", journal, "check", "-s")  # accounts, commodities, assertions
    assert re.search(r"^commodity 1000\.00 PKR$", text, re.M)
    assert re.search(r"^account Income:Freelance:Upwork +; type: R$", text, re.M)
    assert re.search(r"^P 2024-06-\d\d USD 278\.45 PKR  ; user, rates\.csv:\d+", text, re.M)
    assert len(re.findall(r" = -?[\d.]+ (USD|PKR)  ; .*balance: ", text)) >= 10
    check_tool(tool("bean-check"), bean)
    beans = bean.read_text("utf-8")
    assert 'option "operating_currency" "PKR"' in beans
    assert re.search(r"^\d{4}-\d\d-\d\d open Assets:Upwork (PKR,)?USD$", beans, re.M)
    assert len(re.findall(r"^\d{4}-\d\d-\d\d balance ", beans, re.M)) >= 10
    fava = module("fava.core")
    loaded = fava.FavaLedger(str(bean))
    assert loaded.errors == [] and loaded.options["operating_currency"] == ["PKR"]


def test_the_assertions_are_checked(exported, tmp_path):
    """A running balance one cent off is an error in hledger (exact), five cents off in
    bean-check (beancount allows one unit of the last digit shown): the assertions are real."""
    journal, bean = exported()
    text = journal.read_text("utf-8")
    match = re.search(r" = (-?\d+\.\d\d) USD", text)
    assert match
    wrong = Decimal(match[1]) + CENT
    broken = tmp_path / "broken.journal"
    broken.write_text(text.replace(match[0], f" = {wrong} USD", 1), "utf-8")
    result = run_tool(tool("hledger"), "-f", broken, "check", "-s")
    assert result.returncode != 0 and "balance assertion" in result.stderr.lower()
    beans = bean.read_text("utf-8")
    match = re.search(r"(balance Assets:\S+ )(-?\d+\.\d\d) USD", beans)
    assert match
    broken = tmp_path / "broken.beancount"
    broken.write_text(beans.replace(match[0], f"{match[1]}{Decimal(match[2]) + 5 * CENT} USD", 1),
                      "utf-8")
    result = run_tool(tool("bean-check"), broken)
    assert result.returncode != 0 and "Balance failed" in result.stdout + result.stderr


def test_transfers_close_and_no_derived_leaves_the_rules_out(demo, exported):
    """As the report counts them, the withdrawals that arrived in PKR are conversions: what is
    left in Assets:Transfers is the June transfer still in transit (200 USD) and money sent to
    accounts that are not imported (ATM, a transfer to another bank), all in PKR or USD as
    they left; `--no-derived` writes the rows as imported."""
    journal, _ = exported("--year", "2024")
    left = check_tool(tool("hledger"), "-f", journal, "bal", "^Assets:Transfers$", "-O",
                      "csv").stdout
    assert '"Assets:Transfers","' in left and "200.00 USD" in left
    plain = demo / "plain.journal"
    ok(run("--ledger", "l", "export", "--format", "hledger", "--year", "2024", "--no-derived",
           "-o", plain.name, cwd=demo))
    text = plain.read_text("utf-8")
    assert "origin: rule:" not in text and "origin: rule:" in journal.read_text("utf-8")
    check_tool(tool("hledger"), "-f", plain, "check", "-s")


def test_parquet_reads_in_duckdb_with_the_documented_types(demo):
    duckdb = module("duckdb")
    from ledger.store.directory import Ledger

    ok(run("--ledger", "l", "export", "--format", "parquet", "-o", "rows.parquet", cwd=demo))
    con = duckdb.connect()
    path = str(demo / "rows.parquet")
    described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
    assert {name: kind for name, kind, *_ in described} == PARQUET_TYPES
    rows = Ledger(demo / "l").rows()
    total, count, first = con.execute(
        "SELECT sum(amount), count(*), min(date) FROM read_parquet(?)", [path]).fetchone()
    assert count == rows.height and first == rows["date"].min()
    assert total == sum(rows["amount"].to_list(), Decimal(0))  # Decimal, not float
    kinds = dict(con.execute("SELECT kind, count(*) FROM read_parquet(?) GROUP BY kind",
                             [path]).fetchall())
    assert kinds == dict(rows.group_by("kind").len().with_columns(
        pl.col("kind").cast(pl.String)).iter_rows())


@pytest.mark.slow
def test_a_50k_row_export_passes_both_checkers(tmp_path):
    """Generated PayPal and Upwork exports (running balances consistent), valued in EUR with
    the bundled ECB rates: both journals pass the strict checks."""
    from bench.generate import write_paypal, write_upwork

    hledger, bean_check = tool("hledger"), tool("bean-check")
    (tmp_path / "l").mkdir()
    (tmp_path / "l" / "ledger.toml").write_text('home_currency = "EUR"\n')
    write_paypal(tmp_path / "paypal.csv", 18_000)
    write_upwork(tmp_path / "upwork.csv", 16_000)
    ok(run("--ledger", "l", "import", "paypal.csv", "upwork.csv", cwd=tmp_path))
    journal, bean = export_both(tmp_path)
    header = journal.read_text("utf-8").splitlines()[0]
    rows = int(re.search(r"(\d+) rows", header)[1])  # type: ignore[index]
    assert rows >= 50_000, header
    started = time.monotonic()
    check_tool(hledger, "-f", journal, "check", "-s", timeout=600)
    check_tool(bean_check, bean, timeout=600)
    assert time.monotonic() - started < 600
    assert "\nP 2024-" in journal.read_text("utf-8")
