"""ledger.render.plain_table draws a fitted table with the very characters rich draws."""

from __future__ import annotations

import io
import random

import pytest
from rich import box
from rich.console import Console

from ledger.render import plain_table
from ledger.render.fit import Code, Col, F, fit_table

WORDS = ["a", "ab", "Fees", "for", "additional", "Connects", "ATM", "(204318)", "-", "Müller",
         "GmbH", "—", "≈", "1,234.50", "USD", "x" * 23, "·", "bank:meezan", "\u00a0", "—",
         "upwork.service_fee.2023-05-03", "NY.GDP.PCAP.CD"]


def _text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 7)):
        parts.append(rng.choice(WORDS))
        parts.append(rng.choice([" ", " ", "  ", "\n", ""]))
    return "".join(parts)


def _print(renderable, width: int, plain: bool = True, **kw) -> str:
    console = Console(file=io.StringIO(), width=width, highlight=False, emoji=False, **kw)
    if plain:
        console.print(renderable)
    else:
        saved = plain_table.lines
        plain_table.lines = lambda *a, **k: None  # rich draws it
        try:
            console.print(renderable)
        finally:
            plain_table.lines = saved
    return console.file.getvalue()


def test_random_tables_draw_as_rich_draws_them() -> None:
    rng = random.Random(23)
    drawn = 0
    saved = plain_table.lines

    def counting(*args, **kw):
        nonlocal drawn
        out = saved(*args, **kw)
        drawn += out is not None
        return out

    for case in range(200):
        columns = []
        for n in range(rng.randint(1, 5)):
            header = rng.choice(["Date", "Amount", "Counterparty", "Days · match", "",
                                 "1. upwork\n-> payoneer", f"Col {n}", "Gross PKR"])
            if rng.random() < 0.4:
                columns.append(F(header, justify=rng.choice([None, "left", "center"])))
            elif rng.random() < 0.3:  # a code: never broken inside a word
                columns.append(Code(header, drop=rng.choice([0, 1, 2]),
                                    justify=rng.choice([None, "right"])))
            else:
                columns.append(Col(header, min_width=rng.randint(1, 10),
                                   drop=rng.choice([0, 0, 1, 2]),
                                   justify=rng.choice([None, "right", "center"])))
        rows = [[rng.choice(["152.00", "-10,000.00 PKR", "2024-06-07", "—"])
                 if col.figure else _text(rng) for col in columns]
                for _ in range(rng.randint(1, 6))]
        options = rng.choice([{}, {"box": box.SIMPLE_HEAD}, {"box": None},
                              {"show_edge": False}, {"padding": (0, 2)},
                              {"title": "By platform · PKR"},
                              {"sections": (1, 3), "show_header": False}])
        table = fit_table(columns, rows, **options)
        width = rng.randint(12, 110)
        plain_table.lines = counting
        try:
            ours = _print(table, width)
        finally:
            plain_table.lines = saved
        assert ours == _print(table, width, plain=False), (case, width, rows)
    assert drawn > 150  # most of them did not fall back to rich


def test_a_small_table_exactly() -> None:
    table = fit_table([F("Date", justify="left"), Col("Description", min_width=5), F("Amount")],
                      [["2024-06-07", "Fees for Connects", "-12.00"], ["2024-06-08", "", "1.5"]])
    # 37 columns: 10 of edges, dividers and padding; Date and Amount at their width (10, 6),
    # Description wrapped between words in the 11 left (its header's width)
    assert _print(table, 37) == (
        "┏━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━┓\n"
        "┃ Date       ┃ Description ┃ Amount ┃\n"
        "┡━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━┩\n"
        "│ 2024-06-07 │ Fees for    │ -12.00 │\n"
        "│            │ Connects    │        │\n"
        "│ 2024-06-08 │             │    1.5 │\n"
        "└────────────┴─────────────┴────────┘\n")
    # 34: the box would leave Description 8 and break its header inside the word: compact
    assert _print(table, 34) == (
        "Date        Description     Amount\n"
        "──────────────────────────────────\n"
        "2024-06-07  Fees for        -12.00\n"
        "            Connects              \n"
        "2024-06-08                     1.5\n")


@pytest.mark.parametrize("kw", [{"color_system": "truecolor", "force_terminal": True},
                                {"record": True}])
def test_styles_shown_or_recorded_are_left_to_rich(kw) -> None:
    console = Console(file=io.StringIO(), width=40, **kw)
    assert plain_table.lines([("Name", 4, "left", False, "fold")], [["x"]], console,
                             console.options, box=box.HEAVY_HEAD) is None
    plain = Console(file=io.StringIO(), width=40)
    assert plain_table.lines([("Name", 4, "left", False, "fold")], [["x"]], plain, plain.options,
                             box=box.HEAVY_HEAD) == ["┏━━━━━━┓", "┃ Name ┃", "┡━━━━━━┩",
                                                      "│ x    │", "└──────┘"]


def test_markup_and_text_cells_draw_as_rich_draws_them() -> None:
    from rich.text import Text

    rows = [["[bold]Sent[/]", Text("a long cell that folds", style="red")],
            ["[red]x[/] :smile: y", "[dim]… 3 more[/]"]]
    for width in (14, 20, 40):
        table = fit_table([Col("Name", min_width=3), Col("Note", min_width=4)], rows,
                          markup=True, title="[bold]Chain[/] · 2024-06")
        assert _print(table, width) == _print(table, width, plain=False)
    assert "x 😄 y" in _print(table, 40)  # emoji codes in markup cells are read as before


def test_one_cell_ranges_are_what_rich_counts_one_cell() -> None:
    from rich.cells import cell_len, chop_cells

    sample = "".join(sorted(plain_table.ONE_CELL))
    assert cell_len(sample) == len(sample)
    assert chop_cells(sample, 7) == [sample[i:i + 7] for i in range(0, len(sample), 7)]


def test_the_plain_console_writes_what_richs_writes(monkeypatch) -> None:
    """Text (wrapped at the width), markup, tables, captured output and anything else, in
    order: PlainConsole's characters are rich Console's."""
    from rich.text import Text

    from ledger.render.plain_console import PlainConsole

    rng = random.Random(31)
    things = [_text(rng) * rng.randint(1, 4) for _ in range(60)] + [
        "[bold]Sent, not received yet[/]", "a [dim]b[/] c", "",
        "[red]  possible loss: 1,234.50 USD arrived \\[not] in the bank[/] " * 3,
        Text("styled", style="red"), "\x07bell " * 30,
        fit_table([Col("Name", min_width=3), F("Amount")], [["Müller GmbH", "1,234.50"]],
                  title="By client · PKR"),
        fit_table([Col("Name")], [["x"]], title="[bold]Chain[/]")]
    for width in (9, 30, 100):
        out, theirs = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stdout", out)
        plain = PlainConsole(False, width)
        rich_console = Console(file=theirs, highlight=False, soft_wrap=False, emoji=False,
                               width=width)
        for thing in things:
            plain.print(thing)
            rich_console.print(thing)
            plain.print(thing, markup=False)
            rich_console.print(thing, markup=False)
        with plain.capture() as mine, rich_console.capture() as rich_capture:
            for thing in things[-6:]:
                plain.print(thing)
                rich_console.print(thing)
        assert out.getvalue() == theirs.getvalue()
        assert mine.get() == rich_capture.get() and "Müller" in mine.get()


def test_the_cli_prints_plain_only_where_rich_shows_no_styles(monkeypatch) -> None:
    from ledger.render.plain_console import shows_no_styles

    class Stream(io.StringIO):
        encoding = "utf-8"

        def __init__(self, tty: bool) -> None:
            super().__init__()
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    for name in ("TTY_COMPATIBLE", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    assert shows_no_styles(Stream(False)) and not shows_no_styles(Stream(True))
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not shows_no_styles(Stream(False))
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert shows_no_styles(Stream(True))


def test_markup_is_read_as_rich_reads_it() -> None:
    """markup_plain keeps what rich.markup keeps, or leaves the string to rich (None), which
    is the only choice where rich refuses it."""
    from rich.errors import MarkupError
    from rich.markup import render

    from ledger.render.plain_table import markup_plain

    tokens = ["[bold]", "[/]", "[/bold]", "\\[", "\\\\[x]", "\\\\\\[dim]", "[red on white]",
              "[link=https://example.com]", "[@click]", "text ", "[1]", "[", "]", "\\",
              "a:smile:b", "[#ff0000]", "é—", " "]
    rng = random.Random(5)
    native = 0
    for _ in range(3000):
        markup = "".join(rng.choice(tokens) for _ in range(rng.randint(1, 8)))
        ours = markup_plain(markup)
        try:
            theirs = render(markup, emoji=False).plain
        except MarkupError:
            assert ours is None, markup
            continue
        assert ours in (None, theirs), markup
        native += ours is not None
    assert native > 1500


def test_lit_escapes_as_rich_escapes() -> None:
    from rich.markup import escape

    from ledger.render.report import lit

    rng = random.Random(7)
    for _ in range(500):
        text = "".join(rng.choice(["a", "[b]", "\\", "[", "]", " ", "[/]", "x\\"])
                       for _ in range(rng.randint(0, 6)))
        assert lit(text) == escape(text), text
    assert lit("C:\\data\\") == "C:\\data\\\\" and lit("[ab]") == "\\[ab]"
