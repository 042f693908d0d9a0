"""`ledger formats` and `ledger formats new`: the export formats the importer knows, and a
drafted bank profile for a statement it does not."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import STATE as _state
from ledger.cli.common import RowsFormat
from ledger.cli.common import console as _console
from ledger.cli.common import open_ledger as _ledger
from ledger.core.errors import LedgerError

formats_app = typer.Typer(invoke_without_command=True)


@formats_app.callback(invoke_without_command=True)
def formats(
    ctx: typer.Context,
    output_format: Annotated[RowsFormat, typer.Option("--format")] = RowsFormat.table,
) -> None:
    """List every export format the importer knows, and your own bank profiles, with how
    each is recognised.

    Your profiles live in <ledger dir>/profiles/*.toml; one named like a bundled profile
    replaces it. `ledger formats new FILE` drafts one from a statement the importer does not
    know yet.

    Examples:

      ledger formats

      ledger formats --format json

      ledger formats new ~/Downloads/statement.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    from importers.bank import formats_from_dir
    from importers.registry import formats as known

    profiles = _ledger(missing_ok=True).root / "profiles"  # the bundled formats need none
    yours = {fmt.name for fmt in formats_from_dir(profiles)}
    bundled = {fmt.name for fmt in known()}
    rows = [{"name": fmt.name, "title": fmt.title, "fingerprint": fmt.fingerprint,
             "origin": ("yours, replaces bundled" if fmt.name in bundled else "yours")
             if fmt.name in yours else "bundled",
             "user": fmt.name in yours}
            for fmt in known([profiles])]
    if output_format is RowsFormat.json:
        from ledger.render.report import to_json

        sys.stdout.write(to_json({"profiles_dir": str(profiles), "formats": rows}))
        return
    from ledger.render import formats as render

    if output_format is RowsFormat.csv:
        render.write_csv(rows, sys.stdout)
        return
    render.print_formats(rows, profiles, _console())


@formats_app.command("new")
def formats_new(
    file: Annotated[Path, typer.Argument(
        help="A statement from the bank (CSV or XLSX) whose layout `ledger formats` lacks.",
        show_default=False)],
    name: Annotated[str | None, typer.Option(
        help="Profile name: lower-case letters, digits, '-' or '_'; rows get source "
        "bank:NAME (default: from the file name).", show_default=False)] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace your profile of that name if there is one.")] = False,
) -> None:
    """Draft a bank profile from a statement into <ledger dir>/profiles/NAME.toml.

    The draft maps the columns it recognises and marks with TODO what it could not settle
    (name, currency, day-first or month-first dates, decimal mark...). Edit those lines, then
    import the statement. An existing profile is never replaced without --force.

    Examples:

      ledger formats new ~/Downloads/statement.csv

      ledger formats new AccountStatement.xlsx --name hbl

      ledger formats new statement.csv --name hbl --force
    """
    import re
    import shlex
    import tomllib

    from importers import registry
    from importers.bank import load_profile
    from importers.profile_starter import starter_profile
    from ledger.core.errors import UsageError
    from ledger.store.directory import atomic_write_bytes

    if name is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise UsageError(f"--name {name!r} must be lower-case letters, digits, '-' or '_'",
                         hint="e.g. --name hbl")
    ledger = _ledger(missing_ok=True)  # a draft profile may be a new ledger's first file
    profiles = ledger.root / "profiles"
    raw = registry.read(file)
    draft = starter_profile(raw)
    if name is not None:
        draft = re.sub(r"^name = .*$", f'name = "{name}"', draft, count=1, flags=re.MULTILINE)
    chosen = tomllib.loads(draft)["name"]
    target = profiles / f"{chosen}.toml"
    if target.exists() and not force:
        raise UsageError(f"profile {chosen!r} already exists", path=target,
                         hint="edit it, choose another name with --name, or replace it "
                         "with --force")
    try:
        recognised: str | None = registry.detect(raw, [profiles]).name
    except LedgerError:
        recognised = None
    profiles.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, draft.encode("utf-8"))

    replaces = f"bank:{chosen}" in {fmt.name for fmt in registry.formats()}
    todos = [(n, line) for n, line in enumerate(draft.splitlines(), 1) if "# TODO" in line]
    problem = None
    try:
        load_profile(target)
    except LedgerError as exc:
        problem = exc.message
    again = ["ledger"] + (["--ledger", str(ledger.root)] if _state["ledger"] else [])
    from ledger.render.formats import draft_notes

    sys.stdout.write(draft_notes(target, file.name, chosen, recognised, replaces, todos,
                                 problem, shlex.join([*again, "import", str(file)])))
