"""A rich Table drawn as the plain lines rich would draw, for a console that shows no styles.

Rich lays out every cell through its general rendering pipeline (padding, text wrapping,
segment cropping: ~0.15 ms a cell), which is most of the time `ledger transactions` takes on a
small ledger. When the console writes no styles (a pipe, a file, captured output: no colour
system), a table is only its characters, and for the tables `ledger.render.fit` builds those
follow simple rules: `lines` applies them, character for character as rich 13-15 does (word
wrap and fold of rich's `divide_line`, its justification, cropping and padding, the box's own
rows), and returns None for anything outside them (markup in a header, tabs, characters wider
or narrower than one cell, vertical padding, options the fitted tables never set), which rich
then draws as usual. tests/test_render_plain_table.py compares both on many tables.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions

ONE_CELL_RANGES = ((0x20, 0x7E), (0xA0, 0xAC), (0xAE, 0x2FF), (0x370, 0x482),
                   (0x2010, 0x2027), (0x2030, 0x205E), (0x20A0, 0x20C0), (0x2190, 0x22FF),
                   (0x2500, 0x25FC))
"""Characters rich counts one cell wide, each a grapheme of its own (Latin, Greek, Cyrillic,
dashes and quotes, currency signs, arrows, maths, box drawing; no combining or format
characters): in a string of only these, rich's width of it is its length and it folds
between any two characters."""

ONE_CELL = frozenset(chr(c) for lo, hi in ONE_CELL_RANGES for c in range(lo, hi + 1))

_TRAILING_SPACE = re.compile(r"\s+$")


def _plain(text: str) -> bool:
    return ONE_CELL.issuperset(text.replace("\n", ""))


def _pieces(line: str, width: int, fold: bool = True) -> list[str]:
    """`line` (no newline) divided as rich's Text.wrap divides it (`divide_line`, folding
    words wider than `width` or not, then `rstrip_end`), before justification."""
    if len(line) <= width:  # a line that fits is not divided
        return [line]
    from rich._wrap import divide_line

    bounds = [0, *divide_line(line, width, fold=fold), len(line)]
    pieces = [line[a:b] for a, b in pairwise(bounds)]
    for n, piece in enumerate(pieces):  # Text.rstrip_end
        if len(piece) > width:
            space = _TRAILING_SPACE.search(piece)
            if space is not None:
                pieces[n] = piece[:-min(len(space.group(0)), len(piece) - width)]
    return pieces


def _truncate(piece: str, width: int, overflow: str) -> str:
    """rich's Text.truncate: cropped to `width`, or cut with an ellipsis."""
    if len(piece) <= width:
        return piece
    return piece[:width - 1] + "…" if overflow == "ellipsis" else piece[:width]


def cell_lines(text: str, width: int, justify: str, no_wrap: bool,
               overflow: str = "fold") -> list[str]:
    """`text` in a cell `width` wide as rich draws it (`Text.wrap` with `overflow` "fold" or
    "ellipsis", then each line cropped or padded to `width`); every character one cell wide."""
    out = []
    for line in text.split("\n"):
        for piece in ([line] if no_wrap else _pieces(line, width, overflow == "fold")):
            if justify == "left":
                piece = _truncate(piece, width, overflow)
            elif justify == "right":
                piece = _truncate(piece.rstrip(), width, overflow)
                piece = " " * (width - len(piece)) + piece
            else:  # center
                piece = _truncate(piece.rstrip(), width, overflow)
                piece = " " * ((width - len(piece)) // 2) + piece
            out.append(piece[:width].ljust(width))
    return out


def wrapped(text: str, width: int) -> list[str]:
    """`text` as rich's Console.print writes it at `width` (justify "default": wrapped and
    folded, never padded); every character one cell wide."""
    return [piece[:width] for line in text.split("\n") for piece in _pieces(line, width)]


def lines(columns: list[tuple[str, int, str, bool, str]], rows: list[list[str]],
          console: Console, options: ConsoleOptions, *, box: Any, show_header: bool = True,
          show_edge: bool = True, pad_edge: bool = True, padding: tuple[int, int] = (1, 1),
          sections: frozenset[int] | set[int] = frozenset(), title: str | None = None,
          title_justify: str = "left") -> list[str] | None:
    """The lines rich draws for a `rich.table.Table` of `columns` (header, width, justify,
    no_wrap, overflow "fold" or "ellipsis"; vertical "top"), cells `rows` (plain text), `box`
    (a rich Box or None), `padding` (left, right) and a section line above each row index in
    `sections`, in `options` on `console` (title first); None when rich must draw it: styles
    shown, or something these rules do not cover."""
    if console.color_system is not None or console.record or not columns or not rows:
        return None
    count = len(columns)
    for header, width, justify, _, overflow in columns:
        if width < 1 or justify not in ("left", "right", "center") or \
                overflow not in ("fold", "ellipsis"):
            return None
        if show_header and ("[" in header or not _plain(header)
                            or (":" in header and getattr(console, "_emoji", True))):
            return None
    if not all(_plain(text) for row in rows for text in row):
        return None
    left, right = padding
    pads = [(0 if (not pad_edge and n == 0) else left,
             0 if (not pad_edge and n == count - 1) else right) for n in range(count)]
    widths = [width + a + b for (_, width, *_), (a, b) in zip(columns, pads, strict=True)]
    if box is not None:
        box = box.substitute(options, safe=console.safe_box)
        if not show_header:
            box = box.get_plain_headed_box()
        if not _plain("".join((box.top_left, box.head_vertical, box.mid_vertical,
                               box.foot_vertical, box.get_row(widths, "head"),
                               box.get_row(widths, "row"), box.get_top(widths),
                               box.get_bottom(widths)))):
            return None
    edge = show_edge
    extra = ((2 if edge else 0) + count - 1) if box else 0
    if sum(widths) + extra > options.max_width:
        return None
    out: list[str] = []
    if title and "[" not in title and _plain(title) and \
            (":" not in title or not getattr(console, "_emoji", True)):
        out.extend(cell_lines(title, sum(widths) + extra, title_justify, False))
    elif title:  # markup: rich reads it
        if not hasattr(options, "update"):
            return None
        title_text = console.render_str(title, style="table.title", highlight=False)
        render = options.update(width=sum(widths) + extra, highlight=False, height=None,
                                justify=title_justify)
        out.extend("".join(s.text for s in line)
                   for line in console.render_lines(title_text, render, pad=False))
    if box and edge:
        out.append(box.get_top(widths))
    table_rows: list[tuple[list[str], bool]] = [(row, False) for row in rows]
    if show_header:
        table_rows.insert(0, ([c[0] for c in columns], True))
    lines_above = {index + show_header for index in sections if 0 < index < len(rows)}
    last_row = len(table_rows) - 1
    for index, (texts, is_header) in enumerate(table_rows):
        if box and index in lines_above:
            out.append(box.get_row(widths, "row", edge=edge))
        drawn = []
        for n, text in enumerate(texts):
            pad_left, pad_right = pads[n]
            _, width, justify, no_wrap, overflow = columns[n]
            drawn.append([" " * pad_left + line + " " * pad_right
                          for line in cell_lines(text, width, justify, no_wrap, overflow)])
        height = max(len(cell) for cell in drawn)
        for n, cell in enumerate(drawn):
            blank = [" " * widths[n]] * (height - len(cell))
            drawn[n] = blank + cell if is_header else cell + blank
        if box:
            first, last = index == 0, index == last_row
            ends = (box.head_left, box.head_right, box.head_vertical) if first else \
                ((box.foot_left, box.foot_right, box.foot_vertical) if last else
                 (box.mid_left, box.mid_right, box.mid_vertical))
            for line_no in range(height):
                body = ends[2].join(cell[line_no] for cell in drawn)
                out.append(f"{ends[0]}{body}{ends[1]}" if edge else body)
            if first and show_header:
                out.append(box.get_row(widths, "head", edge=edge))
        else:
            out.extend("".join(cell[line_no] for cell in drawn) for line_no in range(height))
    if box and edge:
        out.append(box.get_bottom(widths))
    return out


_TAGS = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
"""A markup tag, with the backslashes before it (rich.markup.RE_TAGS)."""


def markup_plain(markup: str) -> str | None:
    """The characters rich.markup.render(markup, emoji=False) keeps (tags out, escapes
    read), control characters included; None for what only rich's reading settles (a closing
    tag naming its style, a meta tag `[@...]`, a closing tag with nothing open)."""
    out: list[str] = []
    position = 0
    open_tags = 0
    for match in _TAGS.finditer(markup):
        full, escapes, tag = match.groups()
        start, end = match.span()
        if start > position:
            out.append(markup[position:start].replace("\\[", "["))
        if escapes:
            backslashes, escaped = divmod(len(escapes), 2)
            if backslashes:
                out.append("\\" * backslashes)
            if escaped:
                out.append(full[len(escapes):].replace("\\[", "["))
                position = end
                continue
        name = tag.partition("=")[0]
        if name.startswith("@"):
            return None
        if name.startswith("/"):
            if name[1:].strip() or not open_tags:
                return None
            open_tags -= 1
        else:
            open_tags += 1
        position = end
    if position < len(markup):
        out.append(markup[position:].replace("\\[", "["))
    return "".join(out)


def segments(drawn: list[str]) -> list[Any]:
    """`drawn` lines as rich Segments, a newline after each."""
    from rich.segment import Segment

    line = Segment.line()
    out: list[Any] = []
    for text in drawn:
        out.append(Segment(text))
        out.append(line)
    return out
