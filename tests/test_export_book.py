"""The journals' valuation and balance assertions (ledger.export_book, ledger.balances): which
printed balances are asserted, the opening balances they imply, what happens without rates,
and a gap between two statements."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

from ledger.core.demo import SETTINGS, demo_dir
from ledger.counting import balances
from ledger.counting.balances import Checkpoint
from ledger.reports import export, export_book
from tests.export_tools import check_tool, tool
from tests.test_cli import ok, run

D1, D2, D3 = dt.date(2024, 6, 1), dt.date(2024, 6, 2), dt.date(2024, 6, 3)


def point(date: dt.date, balance: str, account: str = "wise") -> Checkpoint:
    return Checkpoint(account, "USD", date, Decimal(balance), "w.csv", 2)


def test_assertable_keeps_what_one_opening_balance_reproduces():
    moved = {("wise", "USD"): [(D1, Decimal(100)), (D2, Decimal(50)), (D3, Decimal(-30))]}
    # opening 10: 110 after D1, 160 after D2; the D3 statement says 200 (rows missing): dropped
    kept, openings, dropped = balances.assertable(
        [point(D1, "110"), point(D2, "160"), point(D3, "200")], moved)
    assert [p.date for p in kept] == [D1, D2]
    assert openings == {("wise", "USD"): Decimal(10)} and dropped == 1


def test_assertable_drops_a_second_statement_of_the_same_day():
    moved = {("wise", "USD"): [(D1, Decimal(5))]}
    kept, _, dropped = balances.assertable([point(D1, "5"), point(D1, "5")], moved)
    assert len(kept) == 1 and dropped == 1


def test_a_balance_on_a_day_without_a_row_is_its_own_assertion(tmp_path):
    """hledger: a zero posting carrying the assertion; beancount: a balance entry; both
    accepted by the tools."""
    from tests.test_export import frame

    rows = frame([{"amount": Decimal("100.0000"), "date": D1}])
    book = export_book.Book(rows, "June", checkpoints=[point(D2, "150", "upwork")],
                            openings={("upwork", "USD"): Decimal(50)})
    journal = export.to_hledger(rows, None, book)
    assert "    Assets:Upwork  0 USD = 150.00 USD" in journal
    assert "Assets:Upwork             100.00 USD" in journal
    bean = export.to_beancount(rows, None, book)
    assert "2024-06-03 balance Assets:Upwork 150.00 USD" in bean
    (tmp_path / "j.journal").write_text(journal, "utf-8")
    check_tool(tool("hledger"), "-f", tmp_path / "j.journal", "check", "-s")
    (tmp_path / "b.beancount").write_text(bean, "utf-8")
    check_tool(tool("bean-check"), tmp_path / "b.beancount")


def test_without_rates_the_journal_says_so_and_stays_valid(june):
    """BTN as home currency and no BTN rate anywhere: no prices, conversions at their cost in
    the other currency, and a note why."""
    (june.root / "ledger.toml").write_text('home_currency = "BTN"\n')
    book = export_book.build(june)
    assert book.home is None and book.prices == []
    assert any("not valued in BTN" in n and "rates.csv" in n for n in book.notes)
    text = export.to_hledger(book.rows, export.file_names(june), book)
    assert "; note: not valued in BTN" in text and "\nP " not in text
    bean = export.to_beancount(book.rows, export.file_names(june), book)
    assert 'option "operating_currency" "BTN"' in bean  # fava's columns all the same
    assert "918.40 EUR @@ 1000.00 USD" in text


def test_valued_conversion_is_the_reports_fx_cost(june):
    from ledger.reports import report

    book = export_book.build(june, month="2024-06")
    txns = export.transactions(book.rows, None, book.home)
    fx = sum((p.amount for t in txns for p in t.postings if p.account == export.FX),
             Decimal(0))
    assert fx.quantize(Decimal("0.01")) == Decimal(
        report.build(june, month="2024-06")["totals"]["fx_cost"])
    assert all(sum(t.weights().values(), Decimal(0)) == 0 for t in txns)


def test_a_missing_statement_is_a_note_not_a_wrong_assertion(tmp_path):
    """The demo's April and June Upwork statements without May's: June's balances cannot
    follow from April's, so they are left out (and said so), and hledger's strict check
    passes on what is asserted."""
    (tmp_path / "l").mkdir()
    for name in SETTINGS:
        shutil.copyfile(demo_dir() / name, tmp_path / "l" / name)
    files = [demo_dir() / "statements_2024-04-01_2024-04-30.csv",
             demo_dir() / "2024-06-30_transaction_report.csv"]
    ok(run("--ledger", "l", "import", *files, cwd=tmp_path))
    result = ok(run("--ledger", "l", "export", "--format", "hledger", "-o", "j.journal",
                    cwd=tmp_path))
    assert "running balance(s) printed in your exports are not asserted" in result.stderr
    text = (tmp_path / "j.journal").read_text("utf-8")
    assert "; note: " in text and " = " in text
    check_tool(tool("hledger"), "-f", tmp_path / "j.journal", "check", "-s")
