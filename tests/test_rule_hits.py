"""The user's rules' rows kept between commands (ledger/store/rule_hits.py) and the fast paths of
applying them (ledger/core/user_rules.py): each must give what the plain per-row conditions
give, and a kept answer is never used for other rows or another rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.core import rule_apply, schema, user_rules
from ledger.store import rule_hits

WORDS = ["IMPS", "ACME LLC", "NEFT CR", "POS", "AMAZON PAY", "UPI-RAHUL", "SHOP01", "STORE02",
         "CREDIT INTEREST", "acme", "Shop01", "ſhop01", "\u212aLIENT", "École", "CHARGES", "-"]


def bank(texts: list[str], amounts: list[str], days: list[int] | None = None) -> pl.DataFrame:
    """Canonical INR rows on bank:hdfc, kind other, with these descriptions and amounts."""
    n = len(texts)
    days = days or [1 + i % 28 for i in range(n)]
    data = {"id": [f"id{i}" for i in range(n)],
            "date": [dt.date(2024, 4, d) for d in days],
            "source": ["bank:hdfc"] * n, "account": ["bank:hdfc"] * n, "kind": ["other"] * n,
            "amount": [Decimal(a) for a in amounts], "currency": ["INR"] * n,
            "description": texts, "origin": ["source"] * n, "import_id": ["imp"] * n,
            "line": list(range(1, n + 1))}
    return schema.validate(schema.conform(pl.DataFrame(data)), "test")


def rules_of(*tables: dict) -> list[user_rules.UserRule]:
    return user_rules.load({"rules": list(tables)})


def reference(rows: pl.DataFrame, rules: list[user_rules.UserRule]) -> pl.DataFrame:
    """The rules applied the plain way: every rule's full condition on every row, first match
    wins unless `continue`, a later rule's value wins, origin the applied ids joined by `+`."""
    marked = rows.with_columns(user_rules.condition(r).alias(f"_m{i}")
                               for i, r in enumerate(rules))
    marked = marked.with_columns(user_rules.stop(rules).alias("_stop"))
    marked = marked.with_columns(a.alias(f"_a{i}")
                                 for i, a in enumerate(user_rules.applied(rules)))
    columns: dict[str, pl.Expr] = {}
    ids = pl.lit(None, dtype=pl.String)
    for i, rule in enumerate(rules):
        hit = pl.col(f"_a{i}")
        for column, value in rule.sets.items():
            before = columns.get(column, pl.col(column))
            columns[column] = pl.when(hit).then(pl.lit(value).cast(rows.schema[column])) \
                .otherwise(before)
        ids = pl.when(hit).then(pl.when(ids.is_null()).then(pl.lit(rule.id))
                                .otherwise(ids + "+" + rule.id)).otherwise(ids)
    columns["origin"] = pl.when(ids.is_not_null()).then(user_rules.ORIGIN + ids) \
        .otherwise(pl.col("origin"))
    return marked.with_columns(e.alias(c) for c, e in columns.items()).select(rows.columns)


RULE = st.fixed_dictionaries({"description": st.lists(st.sampled_from(
    ["IMPS.*ACME", "AMAZON", "glob:POS*", "^POS ", "SHOP01|STORE02", "upi-rahul", "klient",
     "shop01", "école", "CREDIT INTEREST", "A.M", "charges$"]), min_size=1, max_size=2)},
    optional={"sign": st.sampled_from(["credit", "debit"]),
              "amount_min": st.sampled_from([0, 100, 5000]),
              "amount_max": st.sampled_from([100, 5000]),
              "from": st.sampled_from(["2024-04-05", "2024-04-20"]),
              "case_sensitive": st.booleans(), "continue": st.booleans(),
              "set": st.sampled_from([{"kind": "earning", "client": "Acme LLC"},
                                      {"category": "office"}, {"kind": "expense"},
                                      {"hours": 2.5, "contract": "c1"}])})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join),
                      min_size=1, max_size=30),
       tables=st.lists(RULE, min_size=1, max_size=6),
       data=st.data())
def test_fast_apply_is_the_plain_per_row_apply(texts, tables, data):
    amounts = data.draw(st.lists(st.sampled_from(["-7000", "-99", "0", "100", "20000"]),
                                 min_size=len(texts), max_size=len(texts)))
    tables = [{"set": {"category": "x"}, **t, "id": f"r{i}"} for i, t in enumerate(tables)]
    tables = [t for t in tables if not ("amount_min" in t and "amount_max" in t
                                        and t["amount_min"] > t["amount_max"])]
    if not tables:
        return
    rows = bank(texts, amounts)
    rules = rules_of(*tables)
    want = reference(rows, rules)
    assert rule_apply.apply(rows, rules).equals(want)
    # split across chunks as rows read from Parquet are
    chunked = pl.concat([rows.head(len(texts) // 2), rows.tail(len(texts) - len(texts) // 2)],
                        rechunk=False)
    assert rule_apply.apply(chunked, rules).equals(want)


# --- kept between commands ------------------------------------------------------------------

TEXTS = ["IMPS-412345678901-ACME LLC-HDFC-INVOICE 12", "NEFT CR-CITI0000002-ACME LLC-INV 13",
         "POS 512345XXXXXX1234 AMAZON PAY INDIA", "UPI-RAHUL SHARMA-RAHUL@OKHDFCBANK",
         "CREDIT INTEREST CAPITALISED", "POS 1234 SHOP01 MUMBAI"] * 5
AMOUNTS = ["20000", "25000", "-2499", "-4000", "310", "-7000"] * 5
RULES = [{"id": "acme", "description": "IMPS.*ACME", "sign": "credit",
          "set": {"kind": "earning", "client": "Acme LLC"}},
         {"id": "amazon", "description": "AMAZON", "sign": "debit", "amount_max": 5000,
          "set": {"kind": "expense", "category": "office"}},
         {"id": "big-pos", "description": "^POS ", "amount_min": 5000,
          "set": {"category": "big"}},
         {"id": "interest", "description": "glob:CREDIT INTEREST*",
          "set": {"kind": "earning", "client": "Bank"}}]


def toml(*tables: dict) -> str:
    def value(v: object) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return f'"{v}"' if isinstance(v, str) else str(v).lower() if isinstance(v, bool) \
            else str(v)

    return 'home_currency = "INR"\n' + "".join(
        "\n[[rules]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in t.items()) for t in tables)


def store(ledger, rows: pl.DataFrame) -> None:
    ledger.root.mkdir(parents=True, exist_ok=True)
    temp = ledger.rows_path.with_suffix(".tmp")
    rows.write_parquet(temp, metadata=schema.marks(rows))
    temp.replace(ledger.rows_path)  # a new file, as every write of the store makes


@pytest.fixture
def kept(ledger):
    store(ledger, bank(TEXTS, AMOUNTS))
    ledger.config_path.write_text(toml(*RULES))
    return ledger


def plain(ledger) -> pl.DataFrame:
    return reference(ledger.stored_rows(), list(ledger.settings().rules))


def test_kept_rows_give_what_computing_gives(kept):
    cache = kept.root / rule_hits.NAME
    first = kept.rows()
    assert cache.exists()
    written = cache.read_bytes()
    assert first.equals(plain(kept))
    assert kept.rows().equals(first)  # read back, not computed: the file stays as it was
    assert cache.read_bytes() == written
    assert first.filter(pl.col("counterparty") == "Acme LLC").height == 5


def test_a_kept_answer_is_used_and_only_for_its_own_rows(kept, monkeypatch):
    kept.rows()
    computed = []
    real = user_rules.hits
    monkeypatch.setattr(user_rules, "hits",
                        lambda rows, rules: computed.append([r.id for r in rules])
                        or real(rows, rules))
    kept.rows()
    assert computed == []  # every rule's rows came from the file
    # what a rule sets, or its id, changes nothing it matches: still kept
    changed = [dict(RULES[0], id="acme-2", set={"category": "clients"}), *RULES[1:]]
    kept.config_path.write_text(toml(*changed))
    assert kept.rows().equals(plain(kept)) and computed == []
    # a rule's match keys changed: that rule alone is found again
    edited = [*changed[:2], dict(RULES[2], amount_min=100), RULES[3]]
    kept.config_path.write_text(toml(*edited))
    assert kept.rows().equals(plain(kept)) and computed == [["big-pos"]]
    # other stored rows (an import, undo, rebuild writes a new file): all found again
    store(kept, bank(list(reversed(TEXTS)), list(reversed(AMOUNTS))))
    assert kept.rows().equals(plain(kept))
    assert computed[-1] == ["acme-2", "amazon", "big-pos", "interest"]


@pytest.mark.parametrize("damage", ["garbage", "other schema", "past the rows", "other stamp",
                                    "a directory"])
def test_a_damaged_or_foreign_file_is_never_trusted(kept, damage):
    cache = kept.root / rule_hits.NAME
    kept.rows()
    if damage == "garbage":
        cache.write_bytes(b"ARROW1\x00\x00not really")
    elif damage == "other schema":
        pl.DataFrame({"a": [1]}).write_ipc(cache)
    else:
        frame = pl.read_ipc(cache)
        if damage == "past the rows":
            frame = frame.with_columns(pl.col("rows").list.eval(pl.element() + 1000))
        elif damage == "other stamp":  # other rules' rows, as if for other stored rows
            frame = frame.with_columns(pl.col("rows").reverse(), pl.lit("1:0:0:0").alias("stamp"))
        if damage == "a directory":  # cannot be replaced: nothing written, nothing raised
            cache.unlink()
            cache.mkdir()
        else:
            frame.write_ipc(cache)
    assert kept.rows().equals(plain(kept))


def test_rows_replaced_while_they_were_read_are_not_kept(kept, monkeypatch):
    """The stamp is taken before the rows are read: rows read from a file replaced meanwhile
    are never written under the new file's stamp."""
    real = kept.stored_rows

    def read_then_replace() -> pl.DataFrame:
        rows = real()
        store(kept, bank(list(reversed(TEXTS)), list(reversed(AMOUNTS))))
        return rows

    monkeypatch.setattr(kept, "stored_rows", read_then_replace)
    kept.rows()
    assert not (kept.root / rule_hits.NAME).exists()
    monkeypatch.undo()
    assert kept.rows().equals(plain(kept))


def test_no_rules_no_file(kept):
    kept.config_path.write_text('home_currency = "INR"\n')
    assert kept.rows().equals(kept.stored_rows())
    assert not (kept.root / rule_hits.NAME).exists()


def test_rows_kept_by_other_code_are_found_again(kept, monkeypatch):
    kept.rows()
    computed = []
    real = user_rules.hits
    monkeypatch.setattr(user_rules, "hits",
                        lambda rows, rules: computed.append(len(rules)) or real(rows, rules))
    monkeypatch.setattr(rule_hits, "_code", lambda: "an upgrade")
    assert kept.rows().equals(plain(kept)) and computed == [len(RULES)]
