"""`ledger rules`: your own [[rules]] in ledger.toml (list, test, suggest); ledger/cli/main.py
registers the sub-app. The fee rules stay under `ledger fees --rules`.

Thin like the rest of the CLI: the work is in ledger.user_rules and ledger.rule_tools.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

EXAMPLE = """\
  [[rules]]
  id = "acme-imps"                 # required, unique
  description = "IMPS.*ACME"       # regex, case-insensitive (or "glob:*ACME*")
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


class Format(StrEnum):
    table = "table"
    json = "json"


def _json(data: object) -> None:
    from ledger.render.report import to_json

    sys.stdout.write(to_json(data))


@rules_app.command("list")
def list_cmd(
    output_format: Annotated[Format, typer.Option("--format")] = Format.table,
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
    if output_format is Format.json:
        _json({"schema": "ledger.user-rules/1", "file": str(ledger.config_path),
               "rules": [{"id": r.id, "rule": r.summary(), "continue": r.cont,
                          "note": r.text.get("note")} for r in rules]})
        return
    console = _console()
    if not rules:
        console.print(f"No [[rules]] in {ledger.config_path}. Add one like this:\n{EXAMPLE}"
                      "`ledger rules suggest` drafts them from your unclassified rows.",
                      markup=False)
        return
    for number, rule in enumerate(rules, 1):
        console.print(f"{number}. {rule.id}: {rule.summary()}", markup=False)
    console.print(f"[dim]{len(rules)} rule(s) in {ledger.config_path}; fee rules: "
                  "`ledger fees --rules`[/]")


@rules_app.command("test")
def test_cmd(
    examples: Annotated[int, typer.Option(help="Example rows shown per rule.")] = 3,
    output_format: Annotated[Format, typer.Option("--format")] = Format.table,
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
    if output_format is Format.json:
        _json(data)
        return
    console = _console()
    if not data["rules"]:
        console.print(f"No [[rules]] in {ledger.config_path}: `ledger rules --help` shows "
                      "how to write one.", markup=False)
        return
    for item in data["rules"]:
        flag = "  <- matches nothing" if not item["matches"] else ""
        console.print(f"{item['id']}: matches {item['matches']}, applies to {item['applies']},"
                      f" changes {item['changes']} of {data['rows']} rows{flag}", markup=False)
        console.print(f"  {item['rule']}", markup=False, style="dim")
        for ex in item["examples"]:
            console.print(f"  {ex['date']} {ex['source']} {ex['amount']} {ex['currency']} "
                          f"-> {ex['kind']} {ex['counterparty'] or ''}  "
                          f"{(ex['description'] or '')[:60]}", markup=False)
    for overlap in data["overlaps"]:
        a, b = overlap["rules"]
        console.print(f"overlap: {a} and {b} both match {overlap['rows']} row(s); "
                      f"{overlap['outcome']}", markup=False, style="yellow")


@rules_app.command("suggest")
def suggest_cmd(
    limit: Annotated[int, typer.Option(help="Most rules proposed (largest groups first).")
                     ] = 20,
    output_format: Annotated[Format, typer.Option("--format")] = Format.table,
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
    if output_format is Format.json:
        _json({"schema": "ledger.rules-suggest/1", "rules": drafts})
        return
    if not drafts:
        sys.stdout.write("# nothing unclassified: every row has a kind\n")
        return
    sys.stdout.write(f"# {len(drafts)} draft rule(s) for unclassified rows; edit, then add "
                     f"the ones you keep to {ledger.config_path}\n\n")
    sys.stdout.write("\n".join(d["toml"] for d in drafts))
