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
    from rich.table import Table

ONE_CELL_RANGES = ((0x20, 0x7E), (0xA0, 0xAC), (0xAE, 0x2FF), (0x370, 0x482),
                   (0x2010, 0x2027), (0x2030, 0x205E), (0x20A0, 0x20C0), (0x2190, 0x22FF),
                   (0x2500, 0x25FC))
"""Characters rich counts one cell wide, each a grapheme of its own (Latin, Greek, Cyrillic,
dashes and quotes, currency signs, arrows, maths, box drawing; no combining or format
characters): in a string of only these, rich's width of it is its length and it folds
between any two characters."""

_ONE_CELL = frozenset(chr(c) for lo, hi in ONE_CELL_RANGES for c in range(lo, hi + 1))

_TRAILING_SPACE = re.compile(r"\s+$")


def _plain(text: str) -> bool:
    return _ONE_CELL.issuperset(text.replace("\n", ""))


def cell_lines(text: str, width: int, justify: str, no_wrap: bool) -> list[str]:
    """`text` in a cell `width` wide as rich draws it (`Text.wrap` with overflow "fold", then
    each line cropped or padded to `width`); every character one cell wide."""
    from rich._wrap import divide_line

    out = []
    for line in text.split("\n"):
        if no_wrap:
            pieces = [line]
        else:
            offsets = divide_line(line, width, fold=True)
            bounds = [0, *offsets, len(line)]
            pieces = [line[a:b] for a, b in pairwise(bounds)]
            for n, piece in enumerate(pieces):  # Text.rstrip_end
                if len(piece) > width:
                    space = _TRAILING_SPACE.search(piece)
                    if space is not None:
                        pieces[n] = piece[:-min(len(space.group(0)), len(piece) - width)]
        for piece in pieces:
            if justify == "left":
                piece = piece[:width]
            elif justify == "right":
                piece = piece.rstrip()[:width]
                piece = " " * (width - len(piece)) + piece
            else:  # center
                piece = piece.rstrip()[:width]
                piece = " " * ((width - len(piece)) // 2) + piece
            out.append(piece[:width].ljust(width))
    return out


def lines(table: Table, console: Console, options: ConsoleOptions) -> list[str] | None:
    """The lines `table` draws in `options` on `console` (title first), or None when rich
    must draw it: styles shown, or something these rules do not cover."""
    if console.color_system is not None or console.record or not table.columns \
            or not table.rows:
        return None
    if (table.width is not None or table.min_width is not None or table.expand
            or table.show_footer or table.caption or table.show_lines or table.leading
            or table.collapse_padding):
        return None
    top, right, bottom, left = table.padding
    if top or bottom:
        return None
    columns = table.columns
    count = len(columns)
    headers: list[str] = []
    cells: list[list[str]] = []
    for column in columns:
        if column.width is None or column.overflow != "fold" or \
                column.justify not in ("left", "right", "center") or column.vertical != "top":
            return None
        header = column.header
        if table.show_header:
            if not isinstance(header, str) or "[" in header or not _plain(header) \
                    or (":" in header and getattr(console, "_emoji", True)):
                return None
            headers.append(header)
        texts = []
        for cell in column._cells:
            plain = getattr(cell, "plain", None)
            if plain is None or cell.justify or cell.overflow or cell.no_wrap is not None \
                    or cell.end != "\n" or not _plain(plain):
                return None
            texts.append(plain)
        cells.append(texts)
    pads = []
    for n in range(count):
        pad_left = 0 if (not table.pad_edge and n == 0) else left
        pad_right = 0 if (not table.pad_edge and n == count - 1) else right
        pads.append((pad_left, pad_right))
    widths = [column.width + a + b for column, (a, b) in zip(columns, pads, strict=True)]
    box = table.box.substitute(options, safe=table.safe_box if table.safe_box is not None
                               else console.safe_box) if table.box else None
    if box and not table.show_header:
        box = box.get_plain_headed_box()
    edge = table.show_edge
    extra = ((2 if edge else 0) + count - 1) if box else 0
    if sum(widths) + extra > options.max_width or min(c.width for c in columns) < 1:
        return None
    if not _plain("".join((box.top_left, box.head_vertical, box.mid_vertical,
                           box.foot_vertical, box.get_row(widths, "head"),
                           box.get_row(widths, "row"), box.get_top(widths),
                           box.get_bottom(widths))) if box else ""):
        return None
    out: list[str] = []
    if table.title:
        from rich.style import Style

        title = console.render_str(table.title, style=Style.pick_first(
            table.title_style, "table.title"), highlight=False) \
            if isinstance(table.title, str) else table.title
        render = options.update(width=sum(widths) + extra, highlight=table.highlight,
                                height=None, justify=table.title_justify)
        out.extend("".join(s.text for s in line)
                   for line in console.render_lines(title, render, pad=False))
    if box and edge:
        out.append(box.get_top(widths))
    rows: list[tuple[list[str], bool]] = []
    if table.show_header:
        rows.append((headers, True))
    for index in range(len(table.rows)):
        rows.append(([cells[n][index] for n in range(count)], False))
    sections = {index + table.show_header for index, row in enumerate(table.rows)
                if row.end_section}
    last_row = len(rows) - 1
    for index, (texts, is_header) in enumerate(rows):
        drawn = []
        for n, text in enumerate(texts):
            pad_left, pad_right = pads[n]
            inner = widths[n] - pad_left - pad_right
            drawn.append([" " * pad_left + line + " " * pad_right for line in cell_lines(
                text, inner, columns[n].justify, columns[n].no_wrap)])
        height = max(len(lines) for lines in drawn)
        for n, lines_ in enumerate(drawn):
            blank = [" " * widths[n]] * (height - len(lines_))
            drawn[n] = blank + lines_ if is_header else lines_ + blank
        if box:
            first, last = index == 0, index == last_row
            ends = (box.head_left, box.head_right, box.head_vertical) if first else \
                ((box.foot_left, box.foot_right, box.foot_vertical) if last else
                 (box.mid_left, box.mid_right, box.mid_vertical))
            for line_no in range(height):
                body = ends[2].join(lines_[line_no] for lines_ in drawn)
                out.append(f"{ends[0]}{body}{ends[1]}" if edge else body)
            if first and table.show_header:
                out.append(box.get_row(widths, "head", edge=edge))
            elif index in sections and index != last_row:
                out.append(box.get_row(widths, "row", edge=edge))
        else:
            out.extend("".join(lines_[line_no] for lines_ in drawn)
                       for line_no in range(height))
    if box and edge:
        out.append(box.get_bottom(widths))
    return out


def segments(drawn: list[str]) -> list[Any]:
    """`drawn` lines as rich Segments, a newline after each."""
    from rich.segment import Segment

    line = Segment.line()
    out: list[Any] = []
    for text in drawn:
        out.append(Segment(text))
        out.append(line)
    return out
