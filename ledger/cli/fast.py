"""`ledger report`, `payouts`, `transactions`, `reconcile` and `import` with plain options,
run without typer.

Typer's import and the click command it builds from the command's signature cost ~8 ms of
CPU of the demo report (~0.26 s, of which `import polars` is 0.16 s): the everyday command
line (`ledger --ledger DIR report --month 2024-06 --format json -o out.json`) is read here
instead, into the very values typer would give (`tests/test_demo_speed.py` reads every
such line both ways), and `report_cmd.report` runs as the app's `report` command would run
it, ended as click ends it (exit 0; EOF and Ctrl-C as click handles them; a closed stdout
as ledger/cli/process.py `closed_pipe` ends every command).
`ledger payouts` with its plain options is read the same way and runs `payouts_cmd.payouts`
as the app's `payouts` callback would (~25 ms of typer's of the 5-year ledger's payouts; a
word that is not an option, a subcommand such as `record`, leaves it to the app), and
`ledger transactions` and `ledger reconcile` run `transactions_cmd.transactions` and
`reconcile_cmd.reconcile` as the app's command and callback would. `ledger import FILES` with
plain options runs `import_cmd.import_files` as the app's `import` would (~0.03 s of typer's
of every import; tests/test_import_fast_cli.py).
Anything else (help, another command, an option unknown, repeated or with a value that is not
plain, --tax-year, $LEDGER_WIDTH, shell completion) gets None and the app parses as always:
its errors, suggestions and help stay typer's own.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

VALUE_OPTIONS = ("--ledger", "--width")
"""The app's own options that take a value: the word after them is not a command."""

GLOBAL = {"--ledger": ("ledger", "path"), "--width": ("width", "width"),
          "--debug": ("debug", "flag")}
"""The app's options (ledger/cli/commands.py `main_options`): state key and kind."""
REPORT = {"--month": ("month", "text"), "--year": ("year", "int"), "--from": ("start", "text"),
          "--to": ("end", "text"), "--currency": ("currency", "text"),
          "--format": ("output_format", "format"), "-o": ("output", "path"),
          "--output": ("output", "path"), "--online": ("online", "flag")}
"""`report`'s options read here (not --tax-year: its module imports typer anyway)."""
PAYOUTS = {**REPORT, "--format": ("output_format", "rows_format")}
"""`payouts`' own options (ledger/cli/payouts.py, the group's callback): report's, with the
formats of a table of rows."""
TRANSACTIONS = {"--month": ("month", "text"), "--from": ("start", "text"),
                "--to": ("end", "text"), "--kind": ("kind", "list"),
                "--source": ("source", "list"), "--unclassified": ("unclassified", "flag"),
                "--format": ("output_format", "rows_format"), "--limit": ("limit", "int"),
                "-o": ("output", "path"), "--output": ("output", "path")}
"""`transactions`' options (ledger/cli/commands.py); --kind and --source may repeat."""
RECONCILE = {"--month": ("month", "text"), "--from": ("start", "text"), "--to": ("end", "text"),
             "--format": ("output_format", "rows_format"), "--as-of": ("as_of", "text"),
             "-o": ("output", "path"), "--output": ("output", "path"),
             "--online": ("online", "flag")}
"""`reconcile`'s own options (ledger/cli/reconcile.py, the group's callback)."""
IMPORT = {"--source": ("source", "text"), "--account": ("account", "text"),
          "--date-order": ("date_order", "text"), "--decimal-mark": ("decimal_mark", "text"),
          "--dry-run": ("dry_run", "flag"), "--format": ("output_format", "summary_format")}
"""`import`'s options (ledger/cli/commands.py); its other words are the files (POSITIONAL)."""
POSITIONAL = {"import": "paths"}
"""The commands whose words that are not options are their argument's values: paths, at
least one (else typer says which is missing)."""
COMMANDS = {"report": (REPORT, "ledger.cli.report_cmd", "report"),
            "payouts": (PAYOUTS, "ledger.cli.payouts_cmd", "payouts"),
            "transactions": (TRANSACTIONS, "ledger.cli.transactions_cmd", "transactions"),
            "reconcile": (RECONCILE, "ledger.cli.reconcile_cmd", "reconcile"),
            "import": (IMPORT, "ledger.cli.import_cmd", "import_files")}
"""The commands read here: their options, the module that runs them and its function (each
module has a `settle` too)."""
MIN_WIDTH = 20
"""`--width`'s least value (typer's `min=20`; below it typer says so)."""

_DIGITS = re.compile(r"[0-9]{1,9}")
_NOT_PLAIN = object()


def command_name(args: list[str]) -> str | None:
    """The command `args` name (`report` in `--width 60 report --help`), None for none."""
    rest = iter(args)
    for word in rest:
        if word == "--":
            return None
        if word in VALUE_OPTIONS:
            next(rest, None)
        elif not word.startswith("-"):
            return word
    return None


def read(args: list[str], environ: Mapping[str, str] = os.environ
         ) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """(the command, global options' state, its function's keyword arguments) of a plain
    command line of one of COMMANDS, as typer would give them; None for any other line."""
    from ledger.cli.common import ReportFormat, RowsFormat, SummaryFormat

    if "LEDGER_WIDTH" in environ or any(k.endswith("_COMPLETE") for k in environ):
        return None
    state: dict[str, Any] = {"ledger": None, "debug": False, "width": None}
    defaults: dict[str, dict[str, Any]] = {
        "report": {"month": None, "year": None, "start": None, "end": None, "tax_year": None,
                   "currency": None, "output_format": ReportFormat.table, "output": None,
                   "online": False},
        "payouts": {"month": None, "year": None, "start": None, "end": None,
                    "currency": None, "output_format": RowsFormat.table, "output": None,
                    "online": False},
        "transactions": {"month": None, "start": None, "end": None, "kind": None,
                         "source": None, "unclassified": False,
                         "output_format": RowsFormat.table, "limit": 200, "output": None},
        "reconcile": {"month": None, "start": None, "end": None,
                      "output_format": RowsFormat.table, "as_of": None, "output": None,
                      "online": False},
        "import": {"paths": [], "source": None, "account": None, "date_order": None,
                   "decimal_mark": None, "dry_run": False,
                   "output_format": SummaryFormat.table}}
    options: dict[str, Any] = {}
    given: set[str] = set()
    command = None
    words = iter(args)
    for word in words:
        if command is None and word in COMMANDS:
            command, options = word, defaults[word]
            continue
        if command in POSITIONAL and not word.startswith("-"):
            found = _plain("path", word)
            if found is _NOT_PLAIN:
                return None
            options[POSITIONAL[command]].append(found)
            continue
        name, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        key, kind = (COMMANDS[command][0] if command else GLOBAL).get(name, (None, None))
        if key is None or (key in given and kind != "list"):
            return None
        given.add(key)
        if kind == "flag":
            if equals:
                return None
            found: Any = True
        else:
            if not equals:
                value = next(words, "")
            found = _plain("text" if kind == "list" else kind, value)
            if found is _NOT_PLAIN:
                return None
            if kind == "list":
                found = [*(options[key] or []), found]
        (options if command else state)[key] = found
    if command is None or (command in POSITIONAL and not options[POSITIONAL[command]]):
        return None
    return command, state, options


def _plain(kind: str, value: str) -> Any:
    """`value` as typer coerces it for an option of `kind`, or _NOT_PLAIN where that is not
    plainly so (typer then coerces it, or says what is wrong)."""
    from ledger.cli.common import ReportFormat, RowsFormat, SummaryFormat

    if not value or value.startswith("-"):
        return _NOT_PLAIN
    if kind == "text":
        return value
    if kind in ("int", "width"):
        if not _DIGITS.fullmatch(value):
            return _NOT_PLAIN
        number = int(value)
        return _NOT_PLAIN if kind == "width" and number < MIN_WIDTH else number
    if kind in ("format", "rows_format", "summary_format"):
        formats = {"format": ReportFormat, "rows_format": RowsFormat,
                   "summary_format": SummaryFormat}[kind]
        return formats(value) if value in formats.__members__ else _NOT_PLAIN
    # a path: typer's (readable when it exists; any path that does not)
    try:
        os.stat(value)
    except OSError:
        return Path(value)
    return Path(value) if os.access(value, os.R_OK) else _NOT_PLAIN


def run(args: list[str]) -> bool:
    """Run a plain line of one of COMMANDS as the app would (ending with SystemExit as
    click does); False, having done nothing, for any other line."""
    import importlib

    found = read(args)
    if found is None:
        return False
    from ledger.cli.common import STATE

    command, state, options = found
    _, module_name, function = COMMANDS[command]
    module = importlib.import_module(module_name)
    STATE.update(state)
    module.settle()
    try:
        getattr(module, function)(**options)
    except EOFError:
        sys.stderr.write("\nAborted!\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as exc:
        from ledger.cli.process import closed_pipe, is_closed_pipe

        if not is_closed_pipe(exc):
            raise
        closed_pipe()  # quietly, as the app's commands end on one (ledger/cli/process.py)
    sys.exit(0)
