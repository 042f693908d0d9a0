"""User rules ([[rules]] in ledger.toml): validation with messages naming the file, rule and
key; applying (first match wins, continue, globs, ranges) on read without touching the stored
rows; the report's warning about unclassified money; `rules test` and `rules suggest`; the
batch worker. The end-to-end story through the CLI is in test_user_rules_cli.py."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal

import polars as pl
import pytest

from ledger.core import rule_apply, schema, user_rules
from ledger.core.errors import UsageError
from ledger.counting import rule_tools

ACME = {"id": "acme-imps", "description": "IMPS.*ACME", "sign": "credit",
        "set": {"kind": "earning", "client": "Acme LLC"}}


def rows(*specs: tuple[str, str, str]) -> pl.DataFrame:
    """Canonical rows from (date, amount, description), INR on bank:hdfc, kind other."""
    data = {
        "id": [f"id{i}" for i in range(len(specs))],
        "date": [dt.date.fromisoformat(d) for d, _, _ in specs],
        "source": ["bank:hdfc"] * len(specs), "account": ["bank:hdfc"] * len(specs),
        "kind": ["other"] * len(specs), "amount": [Decimal(a) for _, a, _ in specs],
        "currency": ["INR"] * len(specs), "description": [t for _, _, t in specs],
        "origin": ["source"] * len(specs), "import_id": ["imp"] * len(specs),
        "line": list(range(1, len(specs) + 1)),
    }
    return schema.validate(schema.conform(pl.DataFrame(data)), "test")


BANK = rows(("2024-04-30", "20000", "IMPS-412345678901-ACME LLC-HDFC-XXXX1234-INVOICE 12"),
            ("2024-05-30", "25000", "NEFT CR-CITI0000002-ACME LLC-INV 13"),
            ("2024-04-10", "-2499", "POS 512345XXXXXX1234 AMAZON PAY INDIA"),
            ("2024-04-12", "-5000", "UPI-MOM SHARMA-MOM@OKSBI-FAMILY"),
            ("2024-04-20", "-1650", "ADOBE SYSTEMS SOFTWARE IRELAND CREATIVE CLOUD"))


def load(*tables: dict, text: str = "") -> list[user_rules.UserRule]:
    return user_rules.load({"rules": list(tables)}, "ledger.toml", text)


# --- validation ---------------------------------------------------------------------------

TEXT = """home_currency = "INR"

[[rules]]
id = "acme-imps"
descripton = "IMPS.*ACME"
set = { kind = "earning" }
"""


def test_unknown_key_names_file_line_rule_and_key():
    with pytest.raises(UsageError) as caught:
        user_rules.load(tomllib.loads(TEXT), "ledger.toml", TEXT)
    error = caught.value
    assert error.exit_code == 2
    assert str(error).startswith("ledger.toml:5: [[rules]] 'acme-imps': descripton is not a "
                                 "rule key")
    assert "description" in (error.hint or "")


@pytest.mark.parametrize(("change", "message"), [
    ({"id": None}, "[[rules]] #1 has no id"),
    ({"description": "IMPS(ACME"}, "[[rules]] 'acme-imps': description 'IMPS(ACME' is not a "
     "usable regex"),
    ({"sign": "in"}, "[[rules]] 'acme-imps': sign must be \"credit\" or \"debit\""),
    ({"set": {"kind": "income"}}, "[[rules]] 'acme-imps': set.kind 'income' is not a kind"),
    ({"set": {"kind": "earning", "payee": "x"}},
     "[[rules]] 'acme-imps': set.payee is not a column a rule can set"),
    ({"set": {}}, "[[rules]] 'acme-imps': set is missing or empty"),
    ({"set": {"client": "A", "counterparty": "B"}}, "set.client and set.counterparty are the "
     "same column"),
    ({"set": {"kind": "earning", "hours": -1}}, "set.hours must be a number of hours >= 0"),
    ({"amount_min": "500", "amount_max": "100"}, "amount_min is after amount_max"),
    ({"amount_min": "lots"}, "amount_min 'lots' is not a number"),
    ({"from": "2024-13-01"}, "from '2024-13-01' is not a date"),
    ({"currency": 5}, "currency must be a string or a list of strings"),
    ({"continue": "yes"}, "continue must be true or false"),
])
def test_malformed_rules_are_refused_with_the_rule_and_key(change, message):
    table = {k: v for k, v in {**ACME, **change}.items() if v is not None}
    with pytest.raises(UsageError) as caught:
        load(table)
    assert message in str(caught.value)


def test_a_rule_must_match_something_and_ids_are_unique():
    with pytest.raises(UsageError, match="match is missing"):
        load({"id": "all", "set": {"kind": "earning"}})
    with pytest.raises(UsageError, match="id 'acme-imps' is used twice"):
        load(ACME, ACME)
    with pytest.raises(UsageError, match=r"written as \[\[rules\]\] tables"):
        user_rules.load({"rules": {"id": "x"}})


# --- applying -----------------------------------------------------------------------------


def test_rule_classifies_and_names_the_client_and_marks_origin():
    out = rule_apply.apply(BANK, load(ACME))
    acme = out.filter(pl.col("description").str.contains("ACME LLC"))
    assert acme["kind"].cast(pl.String).to_list() == ["earning", "other"]  # NEFT is not IMPS
    assert out.filter(pl.col("origin") == "rule:user:acme-imps")["counterparty"].to_list() \
        == ["Acme LLC"]
    assert out.schema == BANK.schema and out.columns == BANK.columns
    untouched = out.filter(pl.col("origin") == "source")
    assert untouched.height == BANK.height - 1
    assert (untouched["kind"] == "other").all()


def test_first_match_wins_unless_continue():
    broad = {"id": "acme", "description": "ACME", "set": {"kind": "earning",
                                                          "client": "Acme"}}
    contract = {"id": "acme-contract", "description": "ACME", "set": {"contract": "Retainer",
                                                                      "client": "Acme LLC"}}
    first = rule_apply.apply(BANK, load(broad, contract)).filter(
        pl.col("description").str.contains("ACME"))
    assert set(first["counterparty"]) == {"Acme"} and first["contract"].null_count() == 2
    assert set(first["origin"]) == {"rule:user:acme"}
    both = rule_apply.apply(BANK, load({**broad, "continue": True}, contract)).filter(
        pl.col("description").str.contains("ACME"))
    assert set(both["counterparty"]) == {"Acme LLC"}  # the later rule's value wins
    assert set(both["contract"]) == {"Retainer"}
    assert set(both["kind"].cast(pl.String)) == {"earning"}
    assert set(both["origin"]) == {"rule:user:acme+acme-contract"}


def test_match_keys_glob_ranges_dates_currency_and_case():
    def hits(**table) -> list[int]:
        rule = {"id": "r", "set": {"category": "x"}, **table}
        out = rule_apply.apply(BANK, load(rule))
        return out.filter(pl.col("category") == "x")["line"].to_list()

    assert hits(description="glob:ADOBE*") == [5]
    assert hits(description="glob:*cloud") == [5]
    assert hits(description="glob:CLOUD") == []  # a glob matches the whole value
    assert hits(description="amazon") == [3]  # case-insensitive by default
    assert hits(description="amazon", case_sensitive=True) == []
    assert hits(description=["amazon", "adobe"]) == [3, 5]
    assert hits(sign="debit", amount_min=2000) == [3, 4]
    assert hits(sign="debit", amount_max="2000.00") == [5]
    assert hits(**{"from": "2024-04-15", "until": dt.date(2024, 4, 30)}) == [1, 5]
    assert hits(currency="inr", source="glob:bank:*", sign="credit") == [1, 2]
    assert hits(currency="USD") == []
    assert hits(kind="other", account="hdfc", counterparty="x") == []  # null never matches


def test_hours_for_fixed_price_work():
    rule = {"id": "fixed", "description": "ACME", "set": {"kind": "earning", "hours": 12.5}}
    out = rule_apply.apply(BANK, load(rule))
    assert out.filter(pl.col("origin") != "source")["hours"].to_list() == [12.5, 12.5]


# --- the ledger: applied on read, never stored ---------------------------------------------

HDFC = """Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance
02/04/24,POS 512345XXXXXX1234 AMAZON PAY INDIA,0000000000000000,02/04/24,"2,499.00",,"7,501.00"
30/04/24,IMPS-412345678901-ACME LLC-HDFC-XXXXXXX1234-INVOICE 12,0000412345678901,30/04/24,,"20,000.00","27,501.00"
"""  # noqa: E501


@pytest.fixture
def hdfc(ledger, options, tmp_path):
    ledger.root.mkdir(parents=True)
    ledger.config_path.write_text('home_currency = "INR"\n')
    statement = tmp_path / "hdfc.csv"
    statement.write_text(HDFC)
    ledger.import_files([statement], options)
    return ledger


def add_rule(ledger, text: str) -> None:
    ledger.config_path.write_text(ledger.config_path.read_text() + "\n" + text)


ACME_TOML = """[[rules]]
id = "acme-imps"
description = "IMPS.*ACME"
sign = "credit"
set = { kind = "earning", client = "Acme LLC" }
"""


def test_rules_apply_on_read_and_the_stored_rows_keep_what_the_export_said(hdfc, options,
                                                                           tmp_path):
    add_rule(hdfc, ACME_TOML)
    stored = hdfc.rows_path.read_bytes()
    counted = hdfc.rows()
    assert counted.filter(pl.col("counterparty") == "Acme LLC")["kind"].to_list() == ["earning"]
    assert (hdfc.stored_rows()["origin"] == "source").all()
    assert (hdfc.stored_rows()["kind"] == "other").all()
    again = tmp_path / "again.csv"
    again.write_text(HDFC)
    hdfc.import_files([again], options)  # a write with rules in effect bakes nothing in
    assert hdfc.rows_path.read_bytes() != b"" and (hdfc.stored_rows()["origin"] == "source").all()
    assert hdfc.stored_rows().height == 2 and stored


def test_report_warns_about_unclassified_money_until_a_rule_names_it(hdfc):
    from ledger.reports.report import build

    before = build(hdfc, month="2024-04")
    assert before["totals"]["other"] == "17501.00"
    warning = next(w for w in before["warnings"] if w.startswith("Other adjustments"))
    assert "17,501.00 INR come from 2 unclassified row(s)" in warning
    assert "(net is" not in warning  # gross is 0: no share to give
    assert "`ledger transactions --unclassified --from 2024-04-01 --to 2024-04-30`" in warning
    add_rule(hdfc, ACME_TOML)
    after = build(hdfc, month="2024-04")
    assert after["totals"]["gross"] == "20000.00"
    # the unclassified debit is no client's money: the item without a client
    assert [(c["client"], c["fees"]) for c in after["by_client"]] == [
        ("Acme LLC", "0.00"), (None, "2499.00")]
    assert any("-2,499.00 INR come from 1 unclassified row(s)" in w for w in after["warnings"])
    [user] = [r for r in after["rules"] if r["id"] == "user:acme-imps"]
    assert user["confidence"] == "user" and user["source"] == "ledger.toml"
    assert "IMPS.*ACME" in user["rule"] and user["figures"] == {"gross": "20000.00"}


def test_net_above_gross_is_explained():
    from ledger.reports.report import Period

    period = Period(dt.date(2024, 4, 1), dt.date(2024, 4, 30), "April 2024")
    valued = BANK.head(2).with_columns(pl.col("amount").alias("value"))
    shown = {"gross": "100.00", "net": "45100.00", "other": "45000.00"}
    [text] = rule_tools.warnings_for(valued, shown, period, "INR")
    assert "(net is 45100.0% of gross)" in text
    shown = {"gross": "100.00", "net": "101.00", "other": "0.00"}
    [text] = rule_tools.warnings_for(valued.head(0), shown, period, "INR")
    assert text.startswith("Net 101.00 INR is above gross 100.00 (net is 101.0% of gross)")


# --- finding what needs a rule -------------------------------------------------------------


def test_unclassified_largest_first():
    out = rule_tools.unclassified(rule_apply.apply(BANK, load(ACME)))
    assert out["amount"].to_list() == [Decimal(a) for a in ("25000", "-5000", "-2499",
                                                           "-1650")]


def test_rules_test_counts_examples_and_overlaps():
    broad = {"id": "acme", "description": "ACME", "set": {"kind": "earning"}}
    never = {"id": "never", "description": "PAYPAL", "set": {"kind": "transfer"}}
    data = rule_tools.test(BANK, load(ACME, broad, never), examples=1)
    by_id = {r["id"]: r for r in data["rules"]}
    assert (by_id["acme-imps"]["matches"], by_id["acme-imps"]["applies"]) == (1, 1)
    assert (by_id["acme"]["matches"], by_id["acme"]["applies"], by_id["acme"]["changes"]) \
        == (2, 1, 1)
    assert by_id["never"]["matches"] == 0 and by_id["never"]["examples"] == []
    assert len(by_id["acme"]["examples"]) == 1
    assert data["overlaps"] == [{"rules": ["acme-imps", "acme"], "rows": 1,
                                 "outcome": "acme-imps wins (first match)"}]


def test_suggested_rules_load_and_classify_their_rows():
    drafts = rule_tools.suggest(BANK)
    acme = drafts[0]  # IMPS and NEFT credits of one client: one rule, largest total first
    assert (acme["rows"], acme["total"], acme["set"]) == (
        2, "45000.0000", {"kind": "earning", "client": "ACME LLC"})
    text = "\n".join(d["toml"] for d in drafts)
    rules = user_rules.load(tomllib.loads(text), "drafts.toml", text)
    assert len(rules) == len(drafts) >= 4
    out = rule_apply.apply(BANK, rules)
    assert rule_tools.unclassified(out).is_empty()
    credits = out.filter(pl.col("amount") > 0)
    assert set(credits["kind"].cast(pl.String)) == {"earning"}
    assert all("ACME" in (c or "").upper() for c in credits["counterparty"])
    assert set(out.filter(pl.col("amount") < 0)["kind"].cast(pl.String)) == {"expense"}


def test_fee_rules_still_split_a_fee_inside_a_row_a_user_rule_changed():
    from rules.fees import load_schedule, split_included_fees

    row = rows(("2024-04-02", "-1000", "Sent to Ali [fee 6.00 INR included]")).with_columns(
        fee_included=pl.lit(Decimal("6"), dtype=pl.Decimal(38, 4)))
    ruled = rule_apply.apply(row, load({"id": "ali", "description": "Ali",
                                        "set": {"kind": "subcontractor_payout"}}))
    out = split_included_fees(ruled, load_schedule({}))
    assert sorted(out["amount"].to_list()) == [Decimal("-994"), Decimal("-6")]


# --- the research batch --------------------------------------------------------------------


def test_batch_worker_counts_with_the_workers_rules():
    from ledger import batch
    from ledger.batch.worker import worker_months
    from ledger.core.config import checked

    settings = batch.load_settings(None)
    plain, _ = worker_months([BANK], [], "IN", settings)
    ruled, _ = worker_months([BANK], [], "IN", settings, checked({"rules": [ACME]}))
    assert plain["gross_usd"].sum() == 0
    assert ruled["gross_usd"].sum() > 0
    with pytest.raises(UsageError, match="descripton is not a rule key"):
        checked({"rules": [{**ACME, "descripton": "x"}]})


def test_readme_examples_do_what_they_say():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    section = readme[readme.index("## Your own rules"):]
    text = section[section.index("```toml") + 7:section.index("```", section.index("```toml")
                                                               + 7)]
    rules = user_rules.load(tomllib.loads(text), "README.md", text)
    assert [r.id for r in rules] == ["acme", "family", "adobe"]
    family = rows(("2024-04-03", "30000", "IMPS-4123-RAJESH SHARMA-SBIN-GIFT"),
                  ("2024-04-09", "-4000", "UPI-RAJESH SHARMA-RS@OKSBI-RETURNED"))
    out = rule_apply.apply(pl.concat([BANK, family.with_columns(
        pl.concat_str(pl.lit("f"), "id").alias("id"))]), rules)
    kinds = {r["description"][:12]: (str(r["kind"]), r["counterparty"], r["category"])
             for r in out.iter_rows(named=True)}
    assert kinds["IMPS-4123456"] == ("earning", "Acme LLC", None)
    assert kinds["NEFT CR-CITI"] == ("earning", "Acme LLC", None)
    assert kinds["IMPS-4123-RA"] == ("transfer", None, "family")
    assert kinds["UPI-RAJESH S"] == ("transfer", None, "family")
    assert kinds["ADOBE SYSTEM"] == ("expense", None, "software")
    assert kinds["POS 512345XX"] == ("other", None, None)


@pytest.mark.parametrize(("pattern", "expected"), [
    ("(?i)IMPS.*ACME", ["acme"]),  # the longest ("imps" loses its s: the long s folds to it)
    ("(?i)(?:AMAZON)|(?:ADOBE)", ["mazon", "dobe"]),  # Python's parser factors out the A
    ("(?i)^CREDIT INTEREST.*$", ["credit intere"]),
    ("(?i)A.B", None),  # no literal of 3 letters
    ("(?i)(?:x+)|(?:ACME)", None),  # one alternative needs no literal
    ("(?i)[[:alpha:]]ACME", None),  # set syntax Python reads differently
    ("(?i)(ACME){2}", ["acme"]),
    ("(?i)ÉCOLE NORMALE", ["cole normale"]),  # never a letter outside ASCII
    ("(?i)İSTANBUL", ["tanbul"]),
])
def test_needles_every_match_contains_one(pattern, expected):
    assert user_rules.needles(pattern) == expected


def test_literal_prefilter_matches_exactly_what_the_regexes_match():
    texts = ["IMPS-1-ACME LLC", "imps/acme", "ACME IMPS", "Payment from \u212aLIENT ONE",
             "ſhop01 order", "SHOP01 order", "NEFT CR AMAZON", "ADOBE", "École Normale",
             "ECOLE NORMALE", "acmeacme", "x"]
    table = rows(*[("2024-04-01", str(100 - n), t) for n, t in enumerate(texts)])
    specs = [{"description": "IMPS.*ACME"}, {"description": "klient one"},
             {"description": "shop01"}, {"description": ["amazon", "adobe"]},
             {"description": "école normale"}, {"description": "(ACME){2}"},
             {"description": "ACME", "case_sensitive": True}, {"description": "glob:*ORDER"},
             {"sign": "credit", "amount_min": 95}, {"description": "A.M"}]
    rules = load(*[{"id": f"r{i}", "set": {"category": "x"}, **spec}
                   for i, spec in enumerate(specs)])
    fast = user_rules.matches(table, rules)
    full = table.select(user_rules.condition(r).alias(f"_m{i}") for i, r in enumerate(rules))
    assert fast.equals(full)
    assert fast["_m1"].to_list()[3] and fast["_m2"].to_list()[4]  # Kelvin sign, long s


# --- speed paths (issue 17): each must give what the plain condition gives ------------------


@pytest.mark.parametrize(("pattern", "found", "expected"), [
    ("(?i)(?:AMAZON)", ["amazon"], True),
    ("(?i)(?:UPI-RAHUL)", ["upi-rahul"], True),
    ("(?:AMAZON)", ["amazon"], False),  # case-sensitive: ASCII-insensitive hits over-match
    ("(?i)(?:SMS CHARGES)", ["charge"], False),  # the literal is cut at the s: a part only
    ("(?i)(?:AMAZON.PAY)", ["amazon"], False),  # a regex, not a word
    ("(?i)(?:AMAZON)|(?:ADOBE)", ["mazon", "dobe"], False),
])
def test_a_plain_word_needs_no_regex_after_the_literal_search(pattern, found, expected):
    assert user_rules._is_literal(pattern, found) is expected


def test_words_comparisons_first_and_other_text_keys_decide_as_the_full_condition():
    texts = ["POS 1 AMAZON PAY", "pos 2 amazon", "POS 3 AMAZON", "NEFT AMAZON", "POS 4 FLIPKART",
             "upi-rahul sharma", "UPI-RAHUL X"]
    amounts = ["-2499", "-7000", "9000", "-100", "-8000", "-300", "-6000"]
    table = rows(*[("2024-04-0" + str(n + 1), a, t)
                   for n, (a, t) in enumerate(zip(amounts, texts, strict=True))])
    specs = [{"description": "AMAZON", "sign": "debit", "amount_max": 5000},  # word + checks
             {"description": "^POS ", "amount_min": 5000},  # no literal: amounts first
             {"description": "AMAZON", "account": "hdfc$"},  # word + another regex
             {"description": "AMAZON", "account": "paypal"},
             {"description": "upi-rahul"},  # a word alone
             {"description": "^POS ", "source": "bank"}]  # no literal, no comparison
    rules = load(*[{"id": f"r{i}", "set": {"category": "x"}, **spec, "continue": True}
                   for i, spec in enumerate(specs)])
    fast = user_rules.hits(table, rules)
    assert [h.to_list() for h in fast] == [[0, 3], [1, 2, 4], [0, 1, 2, 3], [], [5, 6],
                                          [0, 1, 2, 4]]
    full = table.select(user_rules.condition(r).arg_true().alias(f"_m{i}").implode()
                        for i, r in enumerate(rules))
    assert [full[f"_m{i}"][0].to_list() for i in range(len(rules))] == [
        h.to_list() for h in fast]


def test_applied_columns_keep_the_chunks_of_the_rows():
    # rows read from Parquet hold one chunk per row group; a column cut otherwise would
    # make every later filter realign the frame
    table = pl.concat([BANK, BANK], rechunk=False)
    assert table["id"].n_chunks() == 2
    out = rule_apply.apply(table, load(ACME, {"id": "amazon", "description": "AMAZON",
                                             "set": {"category": "office"}}))
    assert [out[c].n_chunks() for c in ("kind", "category", "counterparty", "origin")] == [2] * 4
    assert out["category"].to_list() == [None, None, "office", None, None] * 2
    assert out["counterparty"].to_list()[:2] == ["Acme LLC", None]


def test_an_edited_ledger_toml_is_read_again(ledger):
    ledger.root.mkdir()
    ledger.config_path.write_text('home_currency = "INR"\n')
    assert ledger.settings().as_dict() == {"home_currency": "INR"}
    ledger.settings().as_dict()["home_currency"] = "EUR"  # a caller's change stays its own
    assert ledger.settings().home_currency == "INR"
    ledger.config_path.write_text('home_currency = "PKR"\n[[rules]]\nid = "a"\n'
                                  'description = "AMAZON"\nset = { category = "office" }\n')
    assert ledger.settings().home_currency == "PKR"
    assert [r.id for r in user_rules.for_ledger(ledger)] == ["a"]
    ledger.config_path.write_text('home_currency = "PKR"\n')
    assert user_rules.for_ledger(ledger) == []
