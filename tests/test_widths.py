"""Every table of every command at 60, 80, 100, 120 and 200 columns (`--width N` and
$COLUMNS): no figure of the command's JSON that the wide table shows (a money amount, a
date, a percentage, an id prefix, a currency code) is ever cut, wrapped or left out at a
narrower width; narrow widths stack, wide ones keep the boxed table; piped output is 100 wide.

In-process (typer's CliRunner), on the demo ledger and the payouts contractor's ledger, each
built once for the module.
"""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from ledger.cli.main import app
from ledger.core.demo import AS_OF
from tests.inprocess import BuiltOnce

WIDTHS = (60, 80, 100, 120)
PAYOUTS = Path(__file__).parent / "data" / "payouts"

RUNNER = BuiltOnce()


def invoke(root: Path, *args: str, width: int | None = None, columns: int | None = None,
           code: int = 0) -> str:
    """`ledger --ledger ROOT [--width N] ARGS` in process; $COLUMNS as given (else unset)."""
    env = {"COLUMNS": None if columns is None else str(columns), "LEDGER_WIDTH": None,
           "NO_COLOR": "1", "LEDGER_DIR": None}
    head = ["--ledger", str(root)] + ([] if width is None else ["--width", str(width)])
    result = RUNNER.invoke(app, [*head, *args], env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("widths") / "demo"
    invoke(root, "demo", "--keep", str(root))
    return root


@pytest.fixture(scope="module")
def contractor(tmp_path_factory) -> Path:
    """tests/data/payouts: three sub-workers, with a cash payout recorded."""
    root = tmp_path_factory.mktemp("widths") / "contractor"
    root.mkdir()
    for name in ("ledger.toml", "rates.csv", "units.csv"):
        shutil.copyfile(PAYOUTS / name, root / name)
    invoke(root, "import", str(PAYOUTS / "upwork.csv"), str(PAYOUTS / "nayapay.csv"))
    invoke(root, "payouts", "record", "Hina", "3000", "PKR", "--date", "2024-06-28",
           "--ref", "JC-88121")
    return root


# --- what a figure is -------------------------------------------------------------------------

DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?")
CODE = re.compile(r"[A-Z]{3}")
ID = re.compile(r"[0-9a-f]{16,}")


def _strings(value: object):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def figures(data: object) -> set[str]:
    """Each figure of a JSON document in every form a table prints it: as is, grouped
    (31,600.00), as a percentage (12.3%), a ratio (5.35x); dates; currency codes; id prefixes."""
    from ledger.core.money import group_for_reading

    out: set[str] = set()
    for text in _strings(data):
        if DECIMAL.fullmatch(text):
            try:
                number = Decimal(text)
            except InvalidOperation:
                continue
            out |= {text, group_for_reading(number, None), f"{number:.1%}", f"{number:.2f}x"}
        elif DAY.fullmatch(text) or CODE.fullmatch(text):
            out.add(text)
        elif ID.fullmatch(text):
            out |= {text[:8], text[:12]}
    return out


def whole(figure: str, text: str) -> bool:
    """`figure` in `text` as a whole token: not a piece of a longer number or date."""
    return re.search(r"(?<![\w.,])" + re.escape(figure) + r"(?![\w]|[.,-][0-9])", text) \
        is not None


def g(value: str) -> str:
    """A money string as the tables print it: 31741.99 -> 31,741.99."""
    from ledger.core.money import group_for_reading

    return group_for_reading(Decimal(value), None)


COMMANDS = [  # (ledger, table arguments, json arguments, figures the table must show)
    ("demo", ["report", "--year", "2024"], ["--format", "json"], lambda d: [
        g(d["totals"]["gross"]), g(d["totals"]["net"]), *(m["month"] for m in d["months"]),
        *(g(p[k]) for p in d["by_platform"] for k in ("gross", "fees", "net", "net_home")
          if p[k] is not None), *(g(b["monthly"]) for b in d["benchmarks"] if b["ratio"])]),
    ("demo", ["report", "--month", "2024-06"], ["--format", "json"], lambda d: [
        g(d["totals"]["net"]), *(g(c["net"]) for c in d["by_client"])]),
    ("demo", ["transactions", "--month", "2024-06", "--limit", "0"], ["--format", "json"],
     lambda d: [*(r["date"] for r in d), *(f"{Decimal(r['amount']):,.2f}" for r in d),
                *(r["id"][:8] for r in d)]),
    ("demo", ["reconcile", "--from", "2024-04-01", "--to", "2024-06-30", "--as-of", AS_OF],
     ["--format", "json"], lambda d: [
         *(c["id"][:8] for c in d["chains"]), *(g(c["sent"]) for c in d["chains"]),
         *(g(c["arrived"]) for c in d["chains"])]),
    ("demo", ["fees", "--month", "2024-06"], ["--format", "json"], lambda d: [
        *(c[k] for c in d["checks"] for k in ("date", "gross", "charged"))]),
    ("demo", ["fees", "--rules"], ["--format", "json"], lambda d: [
        *(r["until"] for r in d["rules"] if r["until"])]),
    ("demo", ["quote", "500", "USD", "--route", "upwork,payoneer,bank", "--to", "PKR",
              "--date", "2024-06-03", "--compare", "upwork,bank"], ["--format", "json"],
     lambda d: [*(g(r[k]) for r in d["ranking"] for k in ("arrived", "total_cost"))]),
    ("demo", ["tax-register", "--tax-year", "2024"], ["--format", "json"], lambda d: [
        *(r["date"] for r in d["remittances"]), *(g(r["net"]) for r in d["remittances"])]),
    ("demo", ["rates", "check"], ["--format", "json"], lambda d: [
        *(r["date"] for r in d), *(r["rate_date"] for r in d)]),
    ("demo", ["hours", "show", "--month", "2024-06"], ["--json"], lambda d: [
        c["paid"] for c in d["clients"]]),
    ("demo", ["imports"], ["--format", "json"], lambda d: [i["import_id"][:12] for i in d]),
    ("demo", ["benchmarks", "--country", "PK", "--year", "2024"], ["--format", "json"],
     lambda d: [str(b["year"]) for b in d]),
    ("demo", ["formats"], ["--format", "json"], lambda d: []),
    ("contractor", ["payouts", "--month", "2024-06"], ["--format", "json"], lambda d: [
        *(g(w[k]) for w in d["workers"] for k in ("opening", "owed", "paid")),
        *(g(p["amount"]) for p in d["payments"]), *(p["date"] for p in d["payments"])]),
    ("contractor", ["payouts", "list"], ["--format", "json"], lambda d: [
        *(r["id"][:8] for r in d["records"]), *(r["date"] for r in d["records"]),
        *(g(r["amount"]) for r in d["records"])]),
    ("contractor", ["report", "--month", "2024-06"], ["--format", "json"], lambda d: [
        g(d["totals"]["net"]), *(g(s["amount"]) for c in d["value_chains"]
                                 for s in c["steps"])]),
]


ADDRESS = re.compile(r"(?: {4}|\[\d+\] )https?://\S+(?: ; https?://\S+)*")


def test_the_benchmarks_sources_are_listed_once_with_whole_addresses(demo):
    """`ledger benchmarks` numbers its sources in the table and lists each once below, its
    address on a line of its own, never cut or broken, at any width."""
    data = json.loads(invoke(demo, "benchmarks", "--country", "PK", "--format", "json"))
    sources = list(dict.fromkeys((b["source_title"], b["source_url"]) for b in data))
    assert len(sources) < len(data)  # figures share sources
    for width in (60, 80, 200):
        text = invoke(demo, "benchmarks", "--country", "PK", width=width)
        listed = text[text.index("\nSources\n"):]
        for number, (title, url) in enumerate(sources, 1):
            assert f"[{number}] {' '.join(title.split())}" in " ".join(listed.split())
            assert f"\n    {url}\n" in listed, (width, url)
        assert text.count("data.worldbank.org") == len({u for _, u in sources
                                                        if "data.worldbank.org" in u})


def test_the_fee_rules_sources_are_listed_once_with_whole_addresses(demo):
    """`ledger fees --rules` cites each rule's source by number; an address is listed once,
    whole on its own line, at any width (it was cut with … or broken across lines)."""
    rules = json.loads(invoke(demo, "fees", "--rules", "--format", "json"))["rules"]
    addresses = list(dict.fromkeys(r["source"] for r in rules
                                   if r["source"].startswith("http")))
    assert len(addresses) < len([r for r in rules if r["source"].startswith("http")])
    for width in (60, 80, 200):
        text = invoke(demo, "fees", "--rules", width=width)
        listed = text[text.index("\nSources\n"):].splitlines()
        for address in addresses:
            assert sum(line.endswith(f"] {address}") for line in listed) == 1, (width, address)
            assert text.count(address) == 1


@pytest.mark.parametrize(("which", "args", "as_json", "must"), COMMANDS,
                         ids=[" ".join(c[1][:2]) for c in COMMANDS])
def test_no_figure_is_cut_at_any_width(request, which, args, as_json, must):
    root = request.getfixturevalue(which)
    data = json.loads(invoke(root, *args, *as_json))
    wide = invoke(root, *args, width=200)
    expected = set(must(data))  # the JSON's figures as the table prints them
    assert all(whole(f, wide) for f in expected), (args, [f for f in expected
                                                          if not whole(f, wide)])
    shown = {f for f in figures(data) if whole(f, wide)} | expected
    if args != ["formats"]:  # formats has no figures: its lines must fit, that is all
        assert len(expected) >= 3, (args, sorted(expected))
    for n, width in enumerate(WIDTHS):  # 60 and 100 by --width, 80 and 120 by $COLUMNS
        text = invoke(root, *args, **{"columns" if n % 2 else "width": width})
        # a line that is only an address (`ledger benchmarks`' sources) is never broken
        assert max(len(line) for line in text.splitlines()
                   if not ADDRESS.fullmatch(line)) <= width, (args, width)
        missing = sorted(f for f in shown if not whole(f, text))
        assert not missing, (args, width, missing)


def test_the_figures_that_were_cut_before(demo):
    """Issue 19: at 80 columns the benchmarks showed `31,6…`, transactions `2024-0…` and at
    100-107 "By platform" lost its last column."""
    data = json.loads(invoke(demo, "report", "--year", "2024", "--format", "json"))
    gdp = next(b for b in data["benchmarks"] if b["name"] == "gdp_per_capita")
    upwork = next(p for p in data["by_platform"] if p["platform"] == "upwork")
    assert (gdp["monthly"], upwork["net_home"]) == ("31741.99", "423470.57")
    for width in (80, 100, 104, 107):
        text = invoke(demo, "report", "--year", "2024", width=width)
        assert whole("31,741.99", text) and whole("423,470.57", text), width
    rows = invoke(demo, "transactions", "--month", "2024-06", width=80)
    assert re.search(r"^2024-06-03 ", rows, re.MULTILINE)


def test_stacked_at_60_and_boxed_at_200(demo):
    narrow = invoke(demo, "report", "--year", "2024", width=60)
    # By platform: a block per platform, `Header: value` pairs as many to a line as fit
    assert "\nupwork\n  Gross PKR: 485,812.21 · Fees: 59,701.64 · Fee rate: 12.3%\n" \
           "  Net: 426,110.57 · Hours: 183.33 · Net/h: 2,324.24\n" in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 60
    wide = invoke(demo, "report", "--year", "2024", width=200)
    header = next(line for line in wide.splitlines() if "┃ Platform" in line)
    assert [cell.strip() for cell in header.strip().strip("┃").split("┃")] == [
        "Platform", "Gross PKR", "Fees", "Fee rate", "Net", "Hours", "Net/h", "Payout costs",
        "Net home"]
    assert "Gross PKR:" not in wide


def test_piped_output_is_100_wide_and_prose_breaks_between_words(demo):
    text = invoke(demo, "report", "--year", "2024")  # CliRunner: not a terminal, no $COLUMNS
    lines = text.splitlines()
    assert max(len(line) for line in lines) == 100
    assert any(line.startswith("┏") and len(line) > 80 for line in lines)  # By platform boxed
    prose = "Payout costs: what converting each one's money and getting it home cost"
    assert prose in text  # one line at 100
    wide = " ".join(invoke(demo, "report", "--year", "2024", width=200).split())
    narrow = " ".join(invoke(demo, "report", "--year", "2024", width=60).split())
    for start, end in (("Payout costs: what", "shows each journey."),
                       ("Figures derived by rules", "docs/fees.md, FX cost)")):
        sentence = wide[wide.index(start):wide.index(end) + len(end)]
        assert len(sentence) > 150 and sentence in narrow  # broken between words only


def test_width_comes_from_the_option_then_the_environment(demo):
    from ledger.cli import common as cli_common

    by_option = invoke(demo, "transactions", "--month", "2024-06", width=70, columns=200)
    assert max(len(line) for line in by_option.splitlines()) <= 70
    env = {"LEDGER_WIDTH": "70", "COLUMNS": None, "NO_COLOR": "1"}
    result = RUNNER.invoke(app, ["--ledger", str(demo), "transactions", "--month", "2024-06"],
                           env=env)
    assert result.exit_code == 0 and result.stdout == by_option
    assert cli_common.PIPED_WIDTH == 100
    bad = RUNNER.invoke(app, ["--ledger", str(demo), "--width", "5", "imports"])
    assert bad.exit_code == 2 and "--width" in bad.output


# --- codes: shown whole or not at all ------------------------------------------------------------

CODES = [  # (table arguments, the codes of its JSON: ids, kinds, rules, statuses, names)
    (["transactions", "--limit", "0"], lambda d: [
        r[k] for r in d for k in ("source", "kind", "category", "file") if r[k]]),
    (["fees", "--month", "2024-06"], lambda d: [
        *(c[k] for c in d["checks"] + d["withdrawals"] for k in ("rule", "status") if c[k]),
        *(r[k] for r in d["rules"] for k in ("id", "confidence"))]),
    (["fees", "--rules"], lambda d: [r[k] for r in d["rules"] for k in ("id", "confidence")]),
    (["report", "--year", "2024"], lambda d: [  # words of the sources' publishers (the
        *(p["platform"] for p in d["by_platform"]),  # report's table shows no more of them)
        *(w for b in d["benchmarks"] for w in b["source"].split(": ")[0].split()
          if len(w) > 6)]),
    (["benchmarks", "--country", "PK"], lambda d: [
        *(b["benchmark"] for b in d), *(w for b in d for w in b["source_title"].split()
                                        if len(w) > 6)]),
    (["imports"], lambda d: [i[k] for i in d for k in ("file", "format")]),
    (["formats"], lambda d: [f["name"] for f in d["formats"]]),
]


def _tokens(text: str) -> set[str]:
    return set(re.split(r"[\s│┃]+", text)) - {""}


@pytest.mark.parametrize(("args", "codes"), CODES, ids=[" ".join(c[0][:2]) for c in CODES])
def test_no_code_is_broken_at_80_columns_or_piped(demo, args, codes):
    """Issue 92: `platform_f|ee`, `bank:mee|zan`, `upwork.ser|vice_fee.2|023-05-03`,
    `not_serve|d`, `NY.GDP.PCAP.|CD`, `manufacturin|g area`. A code the table shows is whole;
    no piece of one is left on a line (a token that is only the start or end of a code)."""
    data = json.loads(invoke(demo, *args, "--format", "json"))
    values = {c for c in codes(data) if len(c) > 2}
    assert len(values) >= 3, values
    wide = _tokens(invoke(demo, *args, width=200))
    assert values <= wide  # every code is shown at 200 columns
    for width in (80, 100, None):  # $COLUMNS=80, --width 100, piped
        text = invoke(demo, *args, **({"columns": 80} if width == 80 else {"width": width}))
        tokens = _tokens(text)
        pieces = {t for t in tokens - wide for v in values
                  if len(t) > 1 and t != v and (v.startswith(t) or v.endswith(t))}
        assert not pieces, (args, width, sorted(pieces))
        if width is None:  # piped: the kinds, sources, statuses and rule ids of the checks
            assert any(v in tokens for v in values)


def test_transactions_show_each_rows_id_file_and_line(demo):
    """Issue 92: the table showed a line but neither the row's id (which `reconcile` names
    rows by) nor its file; wide, it shows both, and the id at every width."""
    rows = json.loads(invoke(demo, "transactions", "--month", "2024-06", "--format", "json"))
    files = {r["file"] for r in rows}
    assert {"paypal_Download.CSV", "2024-06-30_transaction_report.csv"} <= files
    wide = invoke(demo, "transactions", "--month", "2024-06", width=200)
    for row in rows:
        line = next(text for text in wide.splitlines() if f" {row['id'][:8]} " in text)
        assert re.search(rf"\b{re.escape(row['file'])} +│ +{row['line']} ", line), line
    for width in (60, 80):
        text = invoke(demo, "transactions", "--month", "2024-06", width=width)
        assert all(whole(row["id"][:8], text) for row in rows)


def test_the_fee_check_names_each_rows_currency(demo):
    """Issue 92: Gross and Charged were USD on Upwork's rows and EUR on Müller's (110.00 /
    5.19) with no currency anywhere; each row now names its own, at every width."""
    data = json.loads(invoke(demo, "fees", "--month", "2024-06", "--format", "json"))
    rows = data["checks"] + data["withdrawals"]
    assert {r["currency"] for r in data["checks"]} == {"USD", "EUR"}
    for width in (80, 100, 200):
        text = invoke(demo, "fees", "--month", "2024-06", width=width)
        lines = text.splitlines()
        for row in rows:
            amount = g(row.get("gross") or row["amount"])
            [line] = [t for t in lines if t.startswith(("│ " + row["date"], row["date"]))
                      and whole(amount, t)]
            assert whole(row["currency"], line), (width, line)


def test_the_reports_benchmarks_name_their_publisher_and_point_to_the_full_source(demo):
    """At 80 columns full source titles wrapped the report's benchmark table to ~50 lines;
    it names each publisher, and says where each source is in full."""
    data = json.loads(invoke(demo, "report", "--month", "2024-06", "--format", "json"))
    titles = {b["source"] for b in data["benchmarks"] if b["ratio"] is not None}
    assert any(": " in t for t in titles)  # titles with more than a publisher
    text = invoke(demo, "report", "--month", "2024-06", width=80)
    table = text[text.index("against local benchmarks"):text.index("each source in full")]
    words = _tokens(table)
    for title in titles:
        publisher, _, rest = title.partition(": ")
        assert set(publisher.split()) <= words
        if rest:  # the rest of the title is not shown
            assert not set(rest.split()) <= words, rest
    assert "`ledger benchmarks` or --format json" in " ".join(text.split())


def test_a_quote_shows_no_negative_zero_and_whole_addresses(demo):
    """A hop's cost of nothing is `0.00`, not `-0.00`; each rule's source address is whole on
    its own line at 80 columns (it was broken across lines)."""
    args = ["quote", "500", "USD", "--route", "upwork,bank", "--to", "PKR", "--date",
            "2024-06-03"]
    data = json.loads(invoke(demo, *args, "--format", "json"))
    zero = [line for hop in data["hops"] for line in hop["lines"]
            if Decimal(line["amount"]) == 0]
    assert zero  # the bank's inward charge in Pakistan
    text = invoke(demo, *args, width=80)
    assert not re.search(r"-0\.00\b", text)
    addresses = {r["source"] for r in data["rules"] if ADDRESS.fullmatch(f"    {r['source']}")}
    assert len(addresses) >= 2
    for address in addresses:
        assert f"\n    {address}\n" in text, address
