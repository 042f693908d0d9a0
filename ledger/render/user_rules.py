"""`ledger rules` output: the user's [[rules]] in the order they are tried, what each
matches and changes (`rules test`), and drafted rules as TOML (`rules suggest`); the console
or stream is passed in."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO


def print_rules(rules: list, config_path: Path, example: str, console) -> None:
    """`ledger rules list`: one line per rule (`core.user_rules.Rule`), or how to add one."""
    if not rules:
        console.print(f"No [[rules]] in {config_path}. Add one like this:\n{example}"
                      "`ledger rules suggest` drafts them from your unclassified rows.",
                      markup=False)
        return
    for number, rule in enumerate(rules, 1):
        console.print(f"{number}. {rule.id}: {rule.summary()}", markup=False)
    console.print(f"[dim]{len(rules)} rule(s) in {config_path}; fee rules: "
                  "`ledger fees --rules`[/]")


def print_test(data: dict, config_path: Path, console) -> None:
    """`ledger rules test`: per rule its counts and example rows, then the overlaps."""
    if not data["rules"]:
        console.print(f"No [[rules]] in {config_path}: `ledger rules --help` shows "
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


def write_suggestions(drafts: list[dict], config_path: Path, stream: TextIO) -> None:
    """`ledger rules suggest`: the drafts as TOML to paste, after a comment saying where."""
    if not drafts:
        stream.write("# nothing unclassified: every row has a kind\n")
        return
    stream.write(f"# {len(drafts)} draft rule(s) for unclassified rows; edit, then add "
                 f"the ones you keep to {config_path}\n\n")
    stream.write("\n".join(d["toml"] for d in drafts))
