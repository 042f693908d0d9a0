"""Tables that fit the width they are printed at, and never cut a figure or a code.

Every terminal table of the CLI goes through `fit_table`. A figure (a money amount, a date, a
percentage, an id prefix, a currency) is never wrapped, folded or cut; nor is a word of a code
column (a kind, a source, a rule id, a status, a file name: `Code`), which is at least its
longest word wide. Text (descriptions, notes, sources) wraps between words; its words up to
`LONG_WORD` cells are never broken either, and a longer one (a URL) is cut with an ellipsis. No
header is broken inside a word. The layout is decided when the table is drawn, from the width
the console gives it:

1. the table with its box, text columns at their natural width or wrapped (down to their
   minimum: `min_width`, or their longest word if wider);
2. the same, compact (no outer edge, one space between columns);
3. compact without the columns that may go (`drop`, highest first: files, sources, notes...),
   then with each one left out put back, most needed first, where it fits after all;
4. stacked: a block per row, `Header: value` pairs as many to a line as fit, when even that
   leaves no room.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.text import Text


LONG_WORD = 20
"""The longest word of a text column kept whole (the column is at least that wide); a longer
one (a URL, a path) is cut with an ellipsis where the column is narrower."""


class Col:
    """A column. `figure`: never wrapped (its width is its widest cell) and never left out;
    `code`: wrapped only between words, never inside one (at least its longest word wide);
    else text that wraps between words down to `min_width` (see LONG_WORD). A code or text
    column with `drop` > 0 may be left out (highest `drop` first). A plain class, not a
    dataclass: making one costs ~2 ms of every command that prints a table."""

    __slots__ = ("code", "drop", "figure", "header", "justify", "min_width", "style")

    def __init__(self, header: str, figure: bool = False, justify: str | None = None,
                 drop: int = 0, min_width: int = 8, style: str | None = None,
                 code: bool = False) -> None:
        self.header = header
        self.figure = figure
        self.code = code
        self.justify = justify  # default: right for figures, left for text
        self.drop = drop
        self.min_width = min_width
        self.style = style

    def __repr__(self) -> str:
        return (f"Col({self.header!r}, figure={self.figure}, code={self.code}, "
                f"justify={self.justify!r}, drop={self.drop}, min_width={self.min_width}, "
                f"style={self.style!r})")


def F(header: str, **kw: Any) -> Col:
    """A figure column."""
    return Col(header, figure=True, **kw)


def Code(header: str, **kw: Any) -> Col:
    """A code column: ids, kinds, sources, rule ids, statuses, names of files or formats."""
    return Col(header, code=True, **kw)


def _text(cell: object, markup: bool) -> Text:
    from rich.text import Text

    if isinstance(cell, Text):
        return cell
    value = "" if cell is None else str(cell)
    if not markup:
        return Text(value)
    # rich replaces :emoji: codes in markup; a cell with nothing like one skips loading its
    # table of them (~9 ms)
    return Text.from_markup(value, emoji=_EMOJI_CODE.search(value) is not None)


_EMOJI_CODE = re.compile(r"(:(\S*?)(?:(?:\-)(emoji|text))?:)")
"""What rich.markup reads as an emoji code (rich._emoji_replace)."""


_CONTROL = {7: None, 8: None, 11: None, 12: None, 13: None}
"""The control characters rich's Text leaves out (rich.control.STRIP_CONTROL_CODES)."""


def _plain(cell: object, markup: bool) -> str | None:
    """The characters `_text(cell, markup)` holds, without making it; None for a rich Text
    that lays itself out its own way (then rich draws the table)."""
    if hasattr(cell, "plain"):  # a rich Text
        text: Any = cell
        if (text.justify, text.overflow, text.no_wrap, text.tab_size, text.end) != \
                (None, None, None, None, "\n"):
            return None
        return text.plain
    value = "" if cell is None else str(cell)
    if markup and _EMOJI_CODE.search(value):  # an emoji code: rich reads it
        return _text(value, True).plain
    if markup and "[" in value:
        from ledger.render.plain_table import markup_plain

        read = markup_plain(value)
        return _text(value, True).plain if read is None else read.translate(_CONTROL)
    return value.translate(_CONTROL)


def _width(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.split("\n")), default=0)


def _longest_word(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for word in text.split()), default=0)


def _words(texts: list[str]) -> tuple[int, int]:
    """The longest word of `texts`, and the longest of those up to LONG_WORD cells."""
    from rich.cells import cell_len

    longest = kept = 0
    for text in texts:
        if len(text) <= kept and text.isascii():
            continue  # no word of it is longer than one already seen
        for word in text.split():
            size = len(word) if word.isascii() else cell_len(word)
            longest = max(longest, size)
            if size <= LONG_WORD:
                kept = max(kept, size)
    return longest, kept


class _Layout:
    __slots__ = ("kind", "shown", "widths")

    def __init__(self, kind: str, shown: list[int], widths: dict[int, int]) -> None:
        self.kind = kind  # "table", "compact" or "stacked"
        self.shown = shown
        self.widths = widths


class Fitted:
    """A table laid out for the width it is rendered at (see the module docstring)."""

    def __init__(self, columns: list[Col], rows: list[list[Any]], *, title: str | None = None,
                 markup: bool = False, sections: tuple[int, ...] = (),
                 row_styles: list[str | None] | None = None, box: Any = "default",
                 show_header: bool = True, padding: tuple[int, int] = (0, 1),
                 show_edge: bool = True) -> None:
        self.columns = columns
        self.cells = rows
        self.markup = markup
        plain = [[_plain(cell, markup) for cell in row] for row in rows]
        self.plain: list[list[str]] | None = plain if all(
            text is not None for row in plain for text in row) else None  # type: ignore[assignment]
        texts = self.plain or [[_text(cell, markup).plain for cell in row] for row in rows]
        self._rows: list[list[Text]] | None = None
        self.title = title
        self.sections = set(sections)
        self.row_styles = row_styles or [None] * len(rows)
        self.box = box
        self.show_header = show_header
        self.padding = padding
        self.show_edge = show_edge
        self.natural = [max([_width(row[n]) for row in texts]
                            + [_longest_word(col.header) if col.figure else
                               _width(col.header.translate(_CONTROL))], default=0)
                        for n, col in enumerate(columns)]
        # what each column would like: its header on one line too (a figure's wraps if need be)
        self.full = [max(width, _width(col.header.translate(_CONTROL)))
                     for width, col in zip(self.natural, columns, strict=True)]
        self.least = [self.natural[n] if col.figure else
                      self._least(col, self.natural[n], [row[n] for row in texts])
                      for n, col in enumerate(columns)]

    @staticmethod
    def _least(col: Col, natural: int, texts: list[str]) -> int:
        """The narrowest a code or text column may be: no word of a code, no word of text up
        to LONG_WORD and no word of the header is broken (see the module docstring)."""
        longest, kept = _words(texts)
        header = _longest_word(col.header.translate(_CONTROL))
        if col.code:
            return max(longest, header, min(natural, col.min_width))
        return max(header, min(natural, max(col.min_width, kept)))

    @property
    def rows(self) -> list[list[Text]]:
        """The cells as rich Text, made when rich draws them (`plain_table` needs none)."""
        if self._rows is None:
            self._rows = [[_text(cell, self.markup) for cell in row] for row in self.cells]
        return self._rows

    # -- layout ---------------------------------------------------------------------------

    def _overhead(self, count: int, compact: bool) -> int:
        if compact:  # SIMPLE_HEAD, no edge: one space of padding and one separator between
            return 2 * (count - 1)
        side = self.padding[1]  # rich's (vertical, horizontal) padding
        has_box = self.box is not None
        return count * 2 * side + (count - 1 if has_box else 0) + \
            (2 if has_box and self.show_edge else 0)

    def _minimum(self, n: int) -> int:
        return max(1, self.least[n])

    def _fit(self, shown: list[int], width: int, compact: bool) -> dict[int, int] | None:
        """Column widths for `shown` within `width`, or None when the minimums do not fit."""
        room = width - self._overhead(len(shown), compact)
        widths = {n: self._minimum(n) for n in shown}
        spare = room - sum(widths.values())
        if spare < 0:
            return None
        # the spare cells go to the text columns that are folded, a cell at a time to the
        # one furthest from its natural width (so short columns unfold first, long ones last)
        wanting = {n: self.full[n] - widths[n] for n in shown if self.full[n] > widths[n]}
        while spare and wanting:
            share = max(1, spare // len(wanting))
            for n in sorted(wanting, key=wanting.get):  # type: ignore[arg-type]
                give = min(share, wanting[n], spare)
                widths[n] += give
                wanting[n] -= give
                spare -= give
                if not wanting[n]:
                    del wanting[n]
                if not spare:
                    break
        return widths

    def layout(self, width: int) -> _Layout:
        shown = list(range(len(self.columns)))
        for compact in (False, True):
            widths = self._fit(shown, width, compact)
            if widths is not None:
                return _Layout("compact" if compact else "table", shown, widths)
        droppable = sorted((n for n, c in enumerate(self.columns) if c.drop and not c.figure),
                           key=lambda n: (-self.columns[n].drop, -n))
        for count, n in enumerate(droppable, 1):
            shown = [m for m in shown if m != n]
            if self._fit(shown, width, True) is None:
                continue
            # a column left out before this one that fits beside the others comes back
            for back in reversed(droppable[:count - 1]):
                if self._fit(sorted([*shown, back]), width, True) is not None:
                    shown = sorted([*shown, back])
            return _Layout("compact", shown, self._fit(shown, width, True) or {})
        return _Layout("stacked", list(range(len(self.columns))), {})

    # -- rendering ------------------------------------------------------------------------

    def _header(self, n: int, layout: _Layout) -> str:
        header = self.columns[n].header
        if self.columns[n].figure and _width(header.translate(_CONTROL)) > layout.widths[n]:
            import textwrap  # a figure's header wraps at spaces

            header = "\n".join(textwrap.fill(line, layout.widths[n], break_long_words=False)
                               for line in header.split("\n"))
        return header

    def _justify(self, n: int) -> str:
        col = self.columns[n]
        return col.justify or ("right" if col.figure else "left")

    def _overflow(self, n: int) -> str:
        """A word wider than its column: a text's is cut with an ellipsis (no code's or
        figure's ever is: their columns are as wide as their longest word)."""
        col = self.columns[n]
        return "fold" if col.figure or col.code else "ellipsis"

    def _table(self, layout: _Layout) -> Any:
        from rich import box as boxes
        from rich.table import Table

        compact = layout.kind == "compact"
        options: dict[str, Any] = {"box": boxes.SIMPLE_HEAD, "show_edge": False,
                                   "pad_edge": False, "padding": (0, 1, 0, 0)} if compact else \
            {"padding": self.padding, "show_edge": self.show_edge,
             **({} if self.box == "default" else {"box": self.box})}
        table = Table(title=self.title, title_justify="left", header_style="bold",
                      show_header=self.show_header, **options)
        for n in layout.shown:
            col = self.columns[n]
            table.add_column(self._header(n, layout), justify=self._justify(n),
                             width=layout.widths[n], no_wrap=col.figure,
                             overflow=self._overflow(n),  # "ignore" drops justify
                             style=col.style)
        for number, (row, style) in enumerate(zip(self.rows, self.row_styles, strict=True)):
            if number in self.sections:
                table.add_section()
            table.add_row(*(row[n] for n in layout.shown), style=style)
        return table

    def _stacked(self, width: int) -> list[Text]:
        """A block per row: its first cell, then `Header: value` pairs, as many to a line as
        fit `width` (joined by " · "), so a stacked report is not a line per figure."""
        from rich.text import Text

        out: list[Text] = []
        if self.title:
            out.append(Text(self.title, style="bold"))
        for row, style in zip(self.rows, self.row_styles, strict=True):
            head = Text(" ", style="bold").join(row[0].split("\n"))
            head.stylize("bold")
            if style:
                head.stylize(style)
            out.append(head)
            line: Text | None = None
            for col, cell in zip(self.columns[1:], row[1:], strict=True):
                if not cell.plain.strip() or not col.header.strip():
                    continue  # an unnamed column is a bar: decoration the lines do without
                pair = Text(f"{' '.join(col.header.split())}: ")
                pair.append_text(Text(" ").join(cell.split("\n")))
                if line is not None and line.cell_len + 3 + pair.cell_len <= width:
                    line.append(" · ")
                    line.append_text(pair)
                    continue
                if line is not None:
                    out.append(line)
                line = Text("  ")
                line.append_text(pair)
            if line is not None:
                out.append(line)
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        layout = self.layout(options.max_width)
        if layout.kind == "stacked":
            yield from self._stacked(options.max_width)
            return
        drawn = self._plain_lines(layout, console, options)
        if drawn is None:
            yield self._table(layout)
        else:  # the same characters, without rich's per-cell pipeline (see plain_table)
            from ledger.render.plain_table import segments

            yield from segments(drawn)

    def plain_lines(self, console: Any, options: Any) -> list[str] | None:
        """The lines rich draws of this table at `options.max_width` on `console`, when
        `plain_table` can draw them (ledger.render.plain_console prints them), else None."""
        layout = self.layout(options.max_width)
        return None if layout.kind == "stacked" else self._plain_lines(layout, console, options)

    def _plain_lines(self, layout: _Layout, console: Console,
                     options: ConsoleOptions) -> list[str] | None:
        """What `_table(layout)` draws, by `plain_table` (None: rich must draw it)."""
        vertical, side = self.padding
        if self.plain is None or vertical or console.color_system is not None:
            return None
        from rich import box as boxes

        from ledger.render import plain_table

        compact = layout.kind == "compact"
        columns = [(self._header(n, layout), layout.widths[n], self._justify(n),
                    self.columns[n].figure, self._overflow(n)) for n in layout.shown]
        rows = [[row[n] for n in layout.shown] for row in self.plain]
        return plain_table.lines(
            columns, rows, console, options,
            box=boxes.SIMPLE_HEAD if compact else
            (boxes.HEAVY_HEAD if self.box == "default" else self.box),
            show_header=self.show_header, show_edge=False if compact else self.show_edge,
            pad_edge=not compact, padding=(0, 1) if compact else (side, side),
            sections=self.sections, title=self.title)


def fit_table(columns: list[Col], rows: list[list[Any]], **kw: Any) -> Fitted:
    """`rows` (a cell per column: str, or rich Text) as a table that fits where it is printed;
    `markup=True` reads str cells as rich markup. See `Fitted`."""
    return Fitted(columns, rows, **kw)
