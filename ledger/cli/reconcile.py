"""`ledger reconcile`: the payout chain platform -> wallet -> bank, hop by hop; `link`/`unlink`.

Registered by ledger/cli/commands.py (`app.add_typer(reconcile_app, name="reconcile")`). Thin:
options in, ledger.reconcile calls, rendering out; heavy imports stay inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import RowsFormat

reconcile_app = typer.Typer(invoke_without_command=True)


@reconcile_app.callback()
def reconcile_cmd(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option(help="Month YYYY-MM (default: latest).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    output_format: Annotated[RowsFormat, typer.Option(
        "--format", help="table for people; json (schema ledger.reconcile/1) or csv for "
        "scripts.")] = RowsFormat.table,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Day YYYY-MM-DD to age money in transit from (default: today).")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to a file.")
                      ] = None,
    online: Annotated[bool, typer.Option(
        "--online", help="Fetch rates no offline source has (network; cached).")] = False,
) -> None:
    """Every chain of transfers between your accounts in a period, with a waterfall per hop.

    A platform withdrawal is matched with the wallet's receipt, a wallet withdrawal with the
    bank credit, by amount (allowing for the fees the rows show, and for conversions at the
    reference rate within a tolerance), date window per provider and references. Each hop
    shows withdrawal fee, wallet fees, FX spread against the reference rate, bank and
    intermediary deductions, tax, and what arrived. Then: money sent but not received yet
    (with its age and the provider's usual delay), money received with no known origin, and
    pairs that could be matched more than one way: settle those with `ledger reconcile link`.

    Windows and tolerances are in ledger.toml:

    \b
      [reconcile]
      window_days = {upwork = 5, payoneer = 3}
      tolerance = "0.03"
      max_split_parts = 4    # credits one withdrawal may arrive in

    Examples:

      ledger reconcile

      ledger reconcile --month 2024-06 --format json

    \b
      ledger reconcile --from 2024-01-01 --to 2024-06-30 \\
          --format csv -o chains.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    from ledger.cli.reconcile_cmd import reconcile as run
    from ledger.cli.reconcile_cmd import settle

    settle()
    run(month=month, start=start, end=end, output_format=output_format, as_of=as_of,
        output=output, online=online)


@reconcile_app.command("link")
def link_cmd(
    first: Annotated[str, typer.Argument(help="Row id (or unique prefix) of one side.")],
    second: Annotated[str, typer.Argument(help="Row id (or prefix) of the other side.")],
) -> None:
    """Say that a withdrawal and a credit are the same money (either order).

    Use it for the pairs `ledger reconcile` lists as ambiguous, or to link a pair it did not
    match. Links are kept in links.json in the ledger directory by row id, so they survive
    `ledger rebuild`. A withdrawal that arrived in several credits takes one link per credit.

    Examples:

      ledger reconcile link 3f2a91c0 77be0d12
    """
    from ledger import reconcile
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger
    from ledger.render.reconcile import linked_line

    done = reconcile.link(_ledger(), first, second)
    _console().print(linked_line(*done["linked"]))


@reconcile_app.command("unlink")
def unlink_cmd(
    first: Annotated[str, typer.Argument(help="Row id (or unique prefix) of one side.")],
    second: Annotated[str, typer.Argument(help="Row id (or prefix) of the other side.")],
) -> None:
    """Undo a link, or stop `ledger reconcile` from matching two rows it matched by itself.

    Examples:

      ledger reconcile unlink 3f2a91c0 77be0d12
    """
    from ledger import reconcile
    from ledger.cli.common import console as _console
    from ledger.cli.common import open_ledger as _ledger
    from ledger.render.reconcile import unlinked_line

    done = reconcile.unlink(_ledger(), first, second)
    _console().print(unlinked_line(*done["unlinked"]))
