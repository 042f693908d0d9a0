"""Statements a worker can check: every line of every statement in the test data is recomputed
from the figures printed on it (share or units and price -> amount -> times the rate shown,
rounded once -> owed), totals from the lines, the balance from the totals; in text, CSV and
HTML, grouped as the locale writes digits; and the HTML prints on A4 (headless Chromium)."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.test_cli import ok, run
from tests.test_payouts import contractor

D = Decimal
CENT = D("0.01")
PERIODS = [("--month", "2024-05"), ("--month", "2024-06"), ("--year", "2024"),
           ("--from", "2024-05-25", "--to", "2024-06-10")]
WORKERS = ("Ali", "Bilal", "Hina")


def book(root: Path, variant: str) -> None:
    """`plain`: the test data as it is. `odd`: shares and rates whose products are not whole
    cents (12.5% of net, a USD per-job price with a half cent, rates of 278.45) and recorded
    payments in both currencies, so rounding shows on almost every line."""
    ok(run("--ledger", "led", "payouts", "record", "Hina", "3000", "PKR", "--date",
           "2024-06-28", "--ref", "NP-77", cwd=root.parent))
    ok(run("--ledger", "led", "payouts", "record", "Bilal", "10.33", "USD", "--date",
           "2024-06-09", cwd=root.parent))
    if variant == "plain":
        return
    toml = (root / "ledger.toml").read_text("utf-8")
    toml = toml.replace('percent_of_gross = "10"', 'percent_of_net = "12.5"\nfx = "payout"')
    toml = toml.replace('per_job = "1500"', 'per_job = "5.375"\ncurrency = "USD"')
    (root / "ledger.toml").write_text(toml, "utf-8")
    rates = (root / "rates.csv").read_text("utf-8").replace("278.50", "278.45")
    (root / "rates.csv").write_text(rates, "utf-8")


@pytest.fixture(scope="module", params=["plain", "odd"])
def books(request, tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp(f"statements-{request.param}")
    root = contractor(cwd)
    book(root, request.param)
    return root


def number(text: str, locale: str | None) -> Decimal:
    """A printed figure back to a Decimal, undoing the locale's grouping."""
    if locale == "de_DE":
        text = text.replace(".", "").replace(",", ".")
    return D(text.replace(",", ""))


def rounded(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


FIG = r"-?[\d.,]+"
JOB = re.compile(
    rf"^(?:(?P<pct>{FIG})% of (?:gross|net) (?P<base>{FIG}) (?P<c1>[A-Z]{{3}})"
    rf"|1/(?P<parts>\d+) of (?:gross|net) (?P<ebase>{FIG}) (?P<c2>[A-Z]{{3}})"
    rf"|(?P<qty>{FIG}|\d+:\d\d) (?P<unit>\S+) × (?P<price>{FIG}) (?P<c3>[A-Z]{{3}}))"
    rf"(?: = (?P<amount>{FIG}) (?P<c4>[A-Z]{{3}}))?"
    rf"(?: × (?P<rate>{FIG}) \(rate of \d{{4}}-\d\d-\d\d\))?$")
PAY = re.compile(rf"^(?P<amount>{FIG}) [A-Z]{{3}} × (?P<rate>{FIG})"
                 rf" \(rate of \d{{4}}-\d\d-\d\d\)$")


def check_job(formula: str, owed: Decimal, locale: str | None) -> None:
    """`formula` (as printed) worked out by hand gives `owed`."""
    match = JOB.match(formula)
    assert match, formula
    g = {k: v for k, v in match.groupdict().items() if v is not None}
    n = lambda key: number(g[key], locale)  # noqa: E731
    if "pct" in g:
        amount = n("base") * n("pct") / 100
    elif "parts" in g:  # cut to 12 places: the fraction of the last place stays with you
        amount = (n("ebase") / int(g["parts"])).quantize(D(1).scaleb(-12), rounding=ROUND_DOWN)
    elif ":" in g["qty"]:
        hours, minutes = g["qty"].split(":")
        amount = (n("price") * (int(hours) * 60 + int(minutes)) / 60).quantize(
            D(1).scaleb(-12), rounding=ROUND_DOWN)
    else:
        amount = n("qty") * n("price")
    if "amount" in g:
        assert n("amount") == amount, formula  # the intermediate shown is exact
    assert owed == rounded(amount * (n("rate") if "rate" in g else 1)), formula


def check_payment(formula: str, paid: Decimal, locale: str | None) -> None:
    if not formula:
        return
    match = PAY.match(formula)
    assert match, formula
    assert paid == rounded(number(match["amount"], locale) * number(match["rate"], locale))


def check_totals(owed: list[Decimal], paid: list[Decimal], totals: dict[str, Decimal],
                 words: str) -> None:
    assert sum(owed, D(0)) == totals["owed"]
    assert sum(paid, D(0)) == totals["paid"]
    assert totals["opening"] + totals["owed"] - totals["paid"] == totals["closing"]
    closing = totals["closing"]
    if closing > 0:
        assert words.startswith("You are owed ")
    elif closing < 0:
        assert words.startswith("Paid ahead")
    else:
        assert words.startswith("Settled")


def text_items(lines: list[str]) -> list[tuple[str, str]]:
    """The text statement's job and payment items: (first line, how it is worked out: the
    indented lines below it joined), each first line within 80 columns."""
    items: list[tuple[str, str]] = []
    for line in lines:
        assert len(line) <= 80, line
        if line.startswith("  20"):
            items.append((line, ""))
        elif line.startswith("      ") and items:
            first, formula = items[-1]
            items[-1] = (first, f"{formula} {line.strip()}".strip())
    return items


def check_text(text: str, locale: str | None) -> int:
    owed, paid, totals = [], [], {}
    words = ""
    lines = text.splitlines()
    items = dict(text_items(lines))
    section = None
    for line in lines:
        if line in ("Work", "Payments"):
            section = line
        elif line.startswith("  Total "):
            continue
        elif section == "Work" and line.startswith("  20"):
            figure = line.rpartition(" owed ")[2]
            amount = number(figure.split(" ")[0], locale)
            check_job(items[line], amount, locale)
            owed.append(amount)
        elif section == "Payments" and line.startswith("  20"):
            amount = number(line.rsplit(" ", 2)[1], locale)
            formula, _, shown = items[line].rpartition(" = ")
            if formula:
                assert number(shown.split(" ")[0], locale) == amount
            check_payment(formula, amount, locale)
            paid.append(amount)
        elif line.startswith("Brought forward ") and " = " in line:
            m = re.match(rf"Brought forward ({FIG}) \+ owed ({FIG}) - paid ({FIG}) = ({FIG}) ",
                         line)
            assert m, line
            totals = dict(zip(("opening", "owed", "paid", "closing"),
                              (number(x, locale) for x in m.groups()), strict=True))
        elif line.startswith(("You are owed", "Paid ahead", "Settled")):
            words = line
    assert totals, text
    for name in ("owed", "paid"):
        shown = next(x for x in lines if x.startswith(f"  Total {name}: "))
        assert number(shown.split(": ")[1].split(" ")[0], locale) == totals[name]
    check_totals(owed, paid, totals, words)
    return len(owed) + len(paid)


def check_csv(text: str) -> int:
    rows = list(csv.DictReader(io.StringIO(text)))
    owed = [D(r["amount"]) for r in rows if r["section"] == "owed"]
    paid = [D(r["amount"]) for r in rows if r["section"] == "paid"]
    for r in rows:
        if r["section"] == "owed":
            check_job(r["detail"], D(r["amount"]), None)
        elif r["section"] == "paid":
            formula = re.search(rf"({FIG} [A-Z]{{3}} × {FIG})$", r["detail"])
            check_payment(formula[1] if formula else "", D(r["amount"]), None)
    opening = D(next(r["amount"] for r in rows if r["section"] == "opening"))
    closing = next(r for r in rows if r["section"] == "closing")
    totals = {"opening": opening, "owed": sum(owed, D(0)), "paid": sum(paid, D(0)),
              "closing": D(closing["amount"])}
    check_totals(owed, paid, totals, closing["detail"])
    return len(owed) + len(paid)


class Cells(HTMLParser):
    """The rows of each table in the statement, as cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        self.texts.append(data)


def check_html(text: str, locale: str | None) -> int:
    parser = Cells()
    parser.feed(text)
    work, pays = parser.tables
    owed, paid = [], []
    for row in work[1:-1]:
        if len(row) == 4:
            owed.append(number(row[3], locale))
            check_job(row[2], owed[-1], locale)
    for row in pays[1:-1]:
        if len(row) == 4:
            paid.append(number(row[3], locale))
            check_payment(row[2], paid[-1], locale)
    assert number(work[-1][-1], locale) == sum(owed, D(0))
    assert number(pays[-1][-1], locale) == sum(paid, D(0))
    line = next(t for t in parser.texts if t.startswith("Brought forward ") and " = " in t)
    m = re.match(rf"Brought forward ({FIG}) \+ owed ({FIG}) - paid ({FIG}) = ({FIG}) ", line)
    totals = dict(zip(("opening", "owed", "paid", "closing"),
                      (number(x, locale) for x in m.groups()), strict=True))
    words = next(t for t in parser.texts if t.startswith(("You are owed", "Paid ahead",
                                                          "Settled")))
    check_totals(owed, paid, totals, words)
    return len(owed) + len(paid)


def statement(root: Path, worker: str, period: tuple[str, ...], fmt: str) -> str:
    return ok(run("--ledger", root, "payouts", "statement", worker, *period, "--format", fmt,
                  cwd=root.parent)).stdout


def statements_of(root: Path, period: tuple[str, ...]) -> dict[tuple[str, str], str]:
    """Every worker's statement of PERIOD in every format, from one payouts summary: what
    `ledger payouts statement` prints (the test below checks one of each period through the
    CLI), without counting the same ledger 36 times over."""
    from ledger import payouts
    from ledger.core.config import reading_locale
    from ledger.payouts import statement as stmt
    from ledger.render import statement as statement_render
    from ledger.store.directory import Ledger

    names = {"--month": "month", "--year": "year", "--from": "start", "--to": "end"}
    options = {names[flag]: int(value) if flag == "--year" else value
               for flag, value in zip(period[::2], period[1::2], strict=True)}
    ledger = Ledger(root)
    summary = payouts.summarize(ledger, online=False, detail=False, **options)
    return {(worker, fmt): statement_render.render(
                stmt.statement(summary, worker, reading_locale(ledger)), fmt)
            for worker in WORKERS for fmt in ("text", "csv", "html")}


def test_every_line_of_every_statement_recomputes_from_its_printed_figures(books):
    checked = 0
    for n, period in enumerate(PERIODS):
        made = statements_of(books, period)
        worker, fmt = WORKERS[n % len(WORKERS)], ("text", "csv", "html")[n % 3]
        assert statement(books, worker, period, fmt) == made[worker, fmt]  # as the CLI prints
        for worker in WORKERS:
            checked += check_text(made[worker, "text"], None)
            checked += check_csv(made[worker, "csv"])
            checked += check_html(made[worker, "html"], None)
    assert checked > 50  # lines, not just totals, were checked


@pytest.mark.parametrize(("locale", "figure"), [("en_IN", "1,50,000.00"),
                                                ("de_DE", "150.000,00")])
def test_grouped_as_the_locale_writes_digits(books, tmp_path, locale, figure):
    root = tmp_path / "led"
    shutil.copytree(books, root)
    toml = (root / "ledger.toml").read_text("utf-8")
    (root / "ledger.toml").write_text(f'locale = "{locale}"\n' + toml, "utf-8")
    ok(run("--ledger", "led", "payouts", "record", "Bilal", "150000", "PKR", "--date",
           "2024-06-30", cwd=tmp_path))
    text = statement(root, "Bilal", ("--month", "2024-06"), "text")
    assert re.search(rf"  2024-06-30  cash / wallet \(recorded\) +{re.escape(figure)} PKR\n",
                     text)
    assert check_text(text, locale) >= 3
    assert check_html(statement(root, "Bilal", ("--month", "2024-06"), "html"), locale) >= 3


def test_periods_like_everywhere_else(books):
    year = statement(books, "Ali", ("--year", "2024"), "text")
    assert year.splitlines()[1] == "2024 (2024-01-01 to 2024-12-31), amounts in PKR"
    custom = statement(books, "Ali", ("--from", "2024-05-25", "--to", "2024-06-10"), "text")
    assert custom.splitlines()[1] == "2024-05-25 to 2024-06-10, amounts in PKR"  # once
    # jobs are numbered per job over the worker's history: June's follow May's
    jobs = re.findall(r"  (Job \d+)  ", year)
    assert jobs == [f"Job {n}" for n in range(1, len(jobs) + 1)] and len(jobs) == 3
    june = statement(books, "Ali", ("--month", "2024-06"), "text")
    assert re.findall(r"  (Job \d+)  ", june) == jobs[1:]


def test_balance_in_words_on_the_payouts_table(books):
    table = ok(run("--ledger", books, "payouts", "--month", "2024-06", cwd=books.parent)).stdout
    assert re.search(r"│ Ali .*you owe [\d,.]+ │", table)
    assert re.search(r"│ Bilal .*(paid ahead|you owe) [\d,.]+ │", table)


def _chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser",
                                                      "google-chrome")) if p), None)


def test_the_html_statement_prints_on_a4(books, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs chromium to check the printed statement")
        pytest.skip("no chromium here (apt-get install chromium)")
    page = tmp_path / "ali.html"
    page.write_text(statement(books, "Bilal", ("--year", "2024"), "html"), "utf-8")
    pdf = tmp_path / "ali.pdf"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    data = pdf.read_bytes()
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data))
    assert boxes and all(abs(float(w) - 595.92) < 2 and abs(float(h) - 842.88) < 2
                         for w, h in boxes), boxes  # A4 is 210 x 297 mm = 595 x 842 pt
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1  # a year of work fits one page


def test_a_rate_from_another_day_shows_that_day(tmp_path):
    """A job valued at the rate of a day rates.csv has no line for is converted at the
    nearest day's rate: the statement shows that day (it said the job's own day, which a
    worker checking the rate would not find), and JSON says which day and provider."""
    import json

    root = contractor(tmp_path)
    rates = (root / "rates.csv").read_text("utf-8")
    assert "2024-06-12,USD,PKR,278.50\n" in rates  # the day of Ali's 20.00 USD bonus
    (root / "rates.csv").write_text(rates.replace("2024-06-12,USD,PKR,278.50\n", "")
                                    .replace("2024-06-10,USD,PKR,278.50",
                                             "2024-06-10,USD,PKR,278.40"), "utf-8")
    text = statement(root, "Ali", ("--month", "2024-06"), "text")
    bonus = dict(text_items(text.splitlines()))
    bonus = next(v for k, v in bonus.items() if k.startswith("  2024-06-12"))
    assert bonus == "10% of gross 20.00 USD = 2.00 USD × 278.4 (rate of 2024-06-10)"
    assert "Where that day has no rate, the nearest day's is used" in text
    assert check_text(text, None) >= 3
    jobs = json.loads(statement(root, "Ali", ("--month", "2024-06"), "json"))["jobs"]
    job = next(j for j in jobs if j["date"] == "2024-06-12")
    assert (job["rate"], job["rate_date"], job["rate_from"], job["rate_source"]) == (
        "278.4", "2024-06-12", "2024-06-10", "user")
    same_day = next(j for j in jobs if j["date"] == "2024-06-03")
    assert same_day["rate_from"] == same_day["rate_date"] == "2024-06-03"
