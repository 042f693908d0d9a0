"""`ledger rules`: your own [[rules]] in ledger.toml (list, test, suggest); ledger/cli/commands.py
registers the sub-app. The fee rules stay under `ledger fees --rules`.

Thin like the rest of the CLI: the work is in ledger.user_rules and ledger.rule_tools.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ledger.cli.common import SummaryFormat

EXAMPLE = """\
  [[rules]]
  id = "acme-imps"                 # required, unique
  description = "IMPS.*ACME"       # regex, any case (or "glob:*ACME*")
  sign = "credit"                  # or "debit"
  set = { kind = "earning", client = "Acme LLC" }
"""

rules_app = typer.Typer(
    help="Your own rules ([[rules]] in ledger.toml): classify, name and assign any row, "
    "applied whenever rows are read (no re-import). The first rule that matches a row wins "
    "unless it says continue = true.\n\n"
    "\b\n" + EXAMPLE + "\n"
    "Match keys: source, account, description, counterparty (regex or glob:PATTERN), "
    "currency, kind, sign, amount_min, amount_max (the size of the amount), from, until "
    "(dates), case_sensitive. set keys: kind, category, counterparty or client, contract, "
    "hours. Fee rules: `ledger fees --rules`.\n\n"
    "Examples:\n\n\b\n  ledger transactions --unclassified\n  ledger rules suggest\n"
    "  ledger rules test\n  ledger rules list",
    no_args_is_help=True)


def _json(data: object) -> None:
    from ledger.render.report import to_json

    sys.stdout.write(to_json(data))


@rules_app.command("list")
def list_cmd(
    output_format: Annotated[SummaryFormat, typer.Option("--format")] = SummaryFormat.table,
) -> None:
    """List your rules in the order they are tried, each with what it matches and sets.

    Examples:

      ledger rules list

      ledger rules list --format json
    """
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger
    from ledger.core.user_rules import for_ledger

    ledger = _ledger()
    rules = for_ledger(ledger)
    if output_format is SummaryFormat.json:
        _json({"schema": "ledger.user-rules/1", "file": str(ledger.config_path),
               "rules": [{"id": r.id, "rule": r.summary(), "continue": r.cont,
                          "note": r.text.get("note")} for r in rules]})
        return
    from ledger.render.user_rules import print_rules

    print_rules(rules, ledger.config_path, EXAMPLE, _console())


@rules_app.command("test")
def test_cmd(
    examples: Annotated[int, typer.Option(help="Example rows shown per rule.")] = 3,
    output_format: Annotated[SummaryFormat, typer.Option("--format")] = SummaryFormat.table,
) -> None:
    """For each rule: how many rows it matches, applies to (not taken by an earlier rule)
    and changes, with a few examples; then the rows two rules would both change, and which
    one wins. Run it after editing ledger.toml; nothing is written.

    Examples:

      ledger rules test

      ledger rules test --examples 10 --format json
    """
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger
    from ledger.core.user_rules import for_ledger
    from ledger.counting.rule_tools import test

    ledger = _ledger()
    data = test(ledger.stored_rows(), for_ledger(ledger), max(examples, 0))
    if output_format is SummaryFormat.json:
        _json(data)
        return
    from ledger.render.user_rules import print_test

    print_test(data, ledger.config_path, _console())


@rules_app.command("suggest")
def suggest_cmd(
    limit: Annotated[int, typer.Option(help="Most rules proposed (largest groups first).")
                     ] = 20,
    output_format: Annotated[SummaryFormat, typer.Option("--format")] = SummaryFormat.table,
) -> None:
    """Draft [[rules]] for the rows still unclassified (kind other): one per counterparty,
    or per description pattern (its first words, digits dropped), credits and debits apart.
    Credits are drafted as earnings from a client, debits as expenses: edit what they set,
    paste the ones you keep into ledger.toml, then `ledger rules test`.

    Examples:

      ledger rules suggest

      ledger rules suggest --limit 5 >> drafts.toml
    """
    from ledger.cli.common import open_ledger as _ledger
    from ledger.counting.rule_tools import suggest

    ledger = _ledger()
    drafts = suggest(ledger.rows(), max(limit, 1))
    if output_format is SummaryFormat.json:
        _json({"schema": "ledger.rules-suggest/1", "rules": drafts})
        return
    from ledger.render.user_rules import write_suggestions

    write_suggestions(drafts, ledger.config_path, sys.stdout)
