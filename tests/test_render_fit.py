"""ledger.render.fit: no code and no word of text up to LONG_WORD is ever broken inside a word,
a longer word is cut with an ellipsis, a header breaks only between words, and a column left
out to make room comes back when the columns that went after it made enough."""

from __future__ import annotations

import io
import random
import re

from rich.console import Console

from ledger.render import plain_table
from ledger.render.fit import LONG_WORD, Code, Col, F, fit_table

CODES = ["platform_fee", "bank:meezan", "payoneer", "service_fee", "not_served",
         "upwork.service_fee.2023-05-03", "upwork.withdrawal_fee.direct_to_local_bank",
         "statements_2024-04-01_2024-04-30.csv", "NY.GDP.PCAP.CD", "ok"]
WORDS = ["Fees", "for", "additional", "Connects", "(Anker", "methodology):", "manufacturing",
         "NY.GDP.PCAP.CD", "04/01/2024-04/07/2024", "Müller", "—", "a",
         "https://support.upwork.com/hc/en-us/articles/211060578-Direct-to-Local-Bank"]


def _print(table, width: int, rich_draws: bool = False) -> str:
    console = Console(file=io.StringIO(), width=width, highlight=False, emoji=False)
    if not rich_draws:
        console.print(table)
        return console.file.getvalue()
    saved = plain_table.lines
    plain_table.lines = lambda *a, **k: None
    try:
        console.print(table)
    finally:
        plain_table.lines = saved
    return console.file.getvalue()


def _tokens(text: str) -> set[str]:
    return {token.strip("│┃") for token in re.split(r"[\s│┃]+", text)} - {""}


def test_no_code_and_no_word_is_broken_at_any_width() -> None:
    rng = random.Random(11)
    checked = cut = 0
    for case in range(150):
        columns = [F("Date", justify="left"),
                   Code(rng.choice(["Kind", "Rule", "Status"]), drop=rng.choice([0, 2])),
                   Col(rng.choice(["Description", "Source", "Note"]),
                       min_width=rng.randint(4, 12), drop=rng.choice([0, 1])),
                   F("Amount")]
        rows = [["2024-06-03", rng.choice(CODES),
                 " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6))), "-12.00"]
                for _ in range(rng.randint(1, 5))]
        table = fit_table(columns, rows)
        width = rng.randint(30, 120)
        drawn = _print(table, width)
        assert drawn == _print(table, width, rich_draws=True), (case, width)
        layout = table.layout(width)
        if layout.kind == "stacked":
            continue
        checked += 1
        tokens = _tokens(drawn)
        for row in rows:
            for n in layout.shown:
                for word in row[n].split():
                    if columns[n].figure or columns[n].code or len(word) <= LONG_WORD:
                        assert word in tokens, (case, width, word, drawn)
                    elif word not in tokens:  # a URL: cut, with an ellipsis
                        assert any(t.endswith("…") and word.startswith(t[:-1])
                                   for t in tokens), (case, width, word, drawn)
                        cut += 1
        for n in layout.shown:  # headers break between words only
            assert set(columns[n].header.split()) <= tokens, (case, width, drawn)
    assert checked > 80 and cut > 10


def test_a_column_left_out_comes_back_where_it_fits() -> None:
    """The fee check at 80 columns: leaving out Client (drop 1) is not enough, leaving out the
    rule too is; then Client fits again and is shown."""
    columns = [F("Date", justify="left"), Col("Client", drop=1), F("Currency", justify="left"),
               F("Gross"), F("Charged"), F("Expected"), Code("Rule", drop=2), Code("Status")]
    rows = [["2024-06-03", "Acme Corp", "USD", "114.67", "11.47", "11.47",
             "upwork.service_fee.2023-05-03", "ok"],
            ["2024-06-14", "Müller Design GmbH", "EUR", "110.00", "5.19", "-",
             "paypal.receive_fee.PK", "not_served"]]
    table = fit_table(columns, rows)
    layout = table.layout(80)
    assert [columns[n].header for n in layout.shown] == [
        "Date", "Client", "Currency", "Gross", "Charged", "Expected", "Status"]
    assert [columns[n].header for n in table.layout(120).shown] == [c.header for c in columns]
    drawn = _print(table, 80)
    assert "Müller Design GmbH" in drawn and "not_served" in drawn


def test_a_stacked_row_packs_its_pairs_into_lines_that_fit() -> None:
    """Stacked, a row's `Header: value` pairs share lines up to the width, in column order;
    each pair is whole on one line."""
    rng = random.Random(5)
    packed = 0
    for case in range(60):
        names = rng.sample(["Gross PKR", "Fees", "Fee rate", "Net", "Hours", "Net/h",
                            "Payout costs", "Net home"], rng.randint(3, 8))
        columns = [Col("Platform"), *(F(n) for n in names)]
        rows = [["Müller Design GmbH", *(f"{rng.randint(0, 10**7):,}.{rng.randint(10, 99)}"
                                        for _ in names)] for _ in range(rng.randint(1, 3))]
        width = rng.randint(30, 60)
        table = fit_table(columns, rows)
        if table.layout(width).kind != "stacked":
            continue
        lines = _print(table, width).splitlines()
        assert max(len(line) for line in lines) <= width, (case, lines)
        pairs = [p for line in lines if line.startswith("  ") for p in line[2:].split(" · ")]
        shown = [f"{n}: {v}" for row in rows for n, v in zip(names, row[1:], strict=True)]
        assert pairs == shown, case
        packed += len(pairs) > len([line for line in lines if line.startswith("  ")])
    assert packed > 10
