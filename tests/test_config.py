"""ledger.toml read into a typed Config in one pass: every key checked, each message naming the
file, the line, the key and its table; read once per command (Ledger.settings)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ledger.core import config
from ledger.core.errors import UsageError
from ledger.store.directory import Ledger

ROOT = Path(__file__).resolve().parent.parent
TOP = ("benchmarks, country, fees, home_currency, hours, locale, payouts, reconcile, rules, "
       "splits, workers")


def load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "ledger.toml"
    path.write_text(text, "utf-8")
    return config.load(path)


def refusal(tmp_path: Path, text: str) -> tuple[str, int | None, str | None]:
    with pytest.raises(UsageError) as caught:
        load(tmp_path, text)
    return caught.value.message, caught.value.line, caught.value.hint


def test_the_demo_settings_as_typed_values():
    demo = config.load(ROOT / "ledger" / "data" / "demo" / "ledger.toml")
    assert (demo.home_currency, demo.country, demo.locale) == ("PKR", "PK", "en_PK")
    assert (demo.rules, demo.workers, demo.splits, dict(demo.reconcile)) == ((), (), (), {})


def test_the_payouts_example_keeps_its_workers_and_splits_in_order():
    example = config.load(ROOT / "tests" / "data" / "payouts" / "ledger.toml")
    assert [w["name"] for w in example.workers] == ["Ali", "Bilal", "Hina"]
    assert [s["worker"] for s in example.splits] == ["Ali", "Hina", "Bilal"]


def test_no_file_is_every_default(tmp_path):
    assert config.load(tmp_path / "ledger.toml") == config.Config()
    assert Ledger(tmp_path).settings() == config.Config()
    assert not hasattr(Ledger, "config")  # the library reads the typed settings only


def test_a_locale_is_kept_as_babel_spells_it_and_rules_are_validated(tmp_path):
    settings = load(tmp_path, 'locale = "en-in"\n\n[[rules]]\nid = "acme"\ncounterparty = '
                    '"ACME"\nset = { kind = "earning", client = "Acme LLC" }\n')
    assert settings.locale == "en_IN"
    assert [r.id for r in settings.rules] == ["acme"]
    assert settings.rules[0].sets == {"kind": "earning", "counterparty": "Acme LLC"}


def test_a_misspelt_top_level_key_is_refused_with_its_line_and_the_nearest_key(tmp_path):
    assert refusal(tmp_path, 'home_currency = "PKR"\ncontry = "PK"\n') == (
        "unknown key 'contry' at the top level", 2, f"did you mean 'country'? known keys: {TOP}")


def test_an_unknown_table_is_refused_at_its_header(tmp_path):
    assert refusal(tmp_path, 'country = "PK"\n\n[reconcile]\ntolerance = "0.01"\n\n[tax]\n'
                   'rate = 1\n') == ("unknown key 'tax' at the top level", 6,
                                     f"known keys: {TOP}")


def test_a_key_of_the_nth_hours_entry_is_named_with_its_entry_and_line(tmp_path):
    text = ('[[hours]]\nmonth = "2024-05"\nhours = 3\n\n[[hours]]\nmonth = "2024-06"\n'
            'hour = 12\n')
    assert refusal(tmp_path, text) == (
        "unknown key 'hour' in [[hours]] entry 2", 7,
        "did you mean 'hours'? known keys: client, contract, hours, kind, month")


def test_a_key_of_payouts_and_of_benchmarks(tmp_path):
    assert refusal(tmp_path, '[payouts]\nunits = "u.csv"\nshow_contracts = true\n')[:2] == (
        "unknown key 'show_contracts' in [payouts]", 3)
    assert refusal(tmp_path, '[[benchmarks]]\nname = "x"\namount = "1"\ncurrency = "PKR"\n'
                   'period = "month"\nsorce = "me"\n')[:2] == (
        "unknown key 'sorce' in [[benchmarks]] entry 1", 6)


@pytest.mark.parametrize(("text", "message", "line"), [
    ('[hours]\nmonth = "2024-06"\nhours = 12\n', "hours must be an array of tables", 1),
    ('workers = "Ali"\n', "workers must be an array of tables", 1),
    ('payouts = "units.csv"\n', "[payouts] must be a table", None),
    ('reconcile = 3\n', "[reconcile] must be a table", None),
    ('country = 92\n', "country = 92 is not text", None),
])
def test_a_value_of_the_wrong_type(tmp_path, text, message, line):
    assert refusal(tmp_path, text)[:2] == (message, line)


def test_keys_other_validators_own_keep_their_own_messages(tmp_path):
    """[[rules]] name the rule and the line; [reconcile] lists its settings."""
    assert refusal(tmp_path, '[[rules]]\nid = "a"\nclinet = "x"\nset = { kind = "earning" }\n'
                   )[:2] == ("[[rules]] 'a': clinet is not a rule key", 3)
    settings = load(tmp_path, "[reconcile]\ntolerans = 0.1\n")  # checked by reconcile itself
    assert dict(settings.reconcile) == {"tolerans": 0.1}


def test_a_command_checks_the_file_once_and_sees_an_edit(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.config_path.write_text('country = "PK"\n', "utf-8")
    config._load.cache_clear()
    assert [ledger.settings().country for _ in range(5)] == ["PK"] * 5
    assert ledger.settings().as_dict() == {"country": "PK"}
    assert (config._load.cache_info().misses, config._load.cache_info().hits) == (1, 5)
    ledger.config_path.write_text('country = "IN"\n', "utf-8")  # same size, same inode
    assert ledger.settings().country == "IN"
    assert config._load.cache_info().misses == 2


def test_a_changed_dict_does_not_change_the_settings(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.config_path.write_text('[reconcile]\nwindow_days = {upwork = 5}\n', "utf-8")
    ledger.settings().as_dict()["reconcile"]["window_days"]["upwork"] = 9
    assert ledger.settings().as_dict()["reconcile"] == {"window_days": {"upwork": 5}}
    assert ledger.settings().reconcile == {"window_days": {"upwork": 5}}


def toml_examples() -> list[tuple[str, str]]:
    """Every ```toml block of README.md and docs/*.md that shows ledger.toml (the fee rules
    page shows the bundled rules file, rules/data/fees.toml, whose tables are providers)."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        if path == ROOT / "docs/fees.md":
            continue
        for block in re.findall(r"```toml\n(.*?)```", path.read_text("utf-8"), re.S):
            found.append((path.name, block))
    return found


def test_every_ledger_toml_example_of_the_docs_passes_the_check(tmp_path):
    examples = toml_examples()
    assert len(examples) >= 5
    for name, block in examples:
        load(tmp_path, block)  # raises, naming the key, if a doc shows a key we refuse
        assert name


def test_the_library_reads_the_shared_settings_without_changing_them(tmp_path):
    """Every command shares one Config per text (the cache): the validators that take the
    parsed tree ([fees], [reconcile], [[workers]], [[benchmarks]]) must leave it as written."""
    from ledger import payouts, reconcile
    from ledger.reports import benchmarks
    from rules.fees import Schedule

    ledger = Ledger(tmp_path)
    ledger.config_path.write_text(
        'home_currency = "PKR"\ncountry = "PK"\n[reconcile]\nwindow_days = {upwork = 5}\n'
        '[fees.options]\nprior_billings = { "Acme" = "10" }\n[[fees.upwork.service_fee]]\n'
        'id = "upwork-service-fee"\nrate = "0.05"\n[[workers]]\nname = "Ali"\n'
        'aliases = ["Ali K"]\n[[splits]]\nworker = "Ali"\npercent_of_gross = "10"\n'
        '[[benchmarks]]\nname = "mine"\namount = "100"\ncurrency = "PKR"\nperiod = "month"\n',
        "utf-8")
    written = ledger.settings().as_dict()
    schedule = Schedule.for_ledger(ledger)
    assert schedule.get("upwork-service-fee").rate == Decimal("0.05")
    assert schedule.options.prior_billings == {"Acme": Decimal("10")}
    assert reconcile.settings(ledger.settings().tree).window_days["upwork"] == 5
    assert [w.aliases for w in payouts.load_rules(ledger).workers.values()] == [("Ali K",)]
    assert benchmarks.table(list(ledger.settings().benchmarks), "PK").filter(
        pl.col("benchmark") == "mine")["amount"].to_list() == ["100"]
    assert ledger.settings().tree == written
