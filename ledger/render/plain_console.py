"""A console for output that shows no styles (a pipe, a file), without importing rich's.

`ledger transactions > rows.txt` prints one table: rich's Console (its module, themes, markup
and text machinery: ~0.04 s of imports) is most of what that costs beyond polars. Where rich
would show no styles anyway, the CLI prints through `PlainConsole`: fitted tables
(ledger.render.fit, drawn by ledger.render.plain_table) and text (its markup tags left
out as rich.markup leaves them) are written here with the very characters rich writes
(text wrapped at the width as rich wraps it); anything else goes to a rich Console made the
first time it is needed, with the CLI's settings, in order. tests/test_render_plain_table.py
compares both.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

from ledger.render.plain_table import ONE_CELL, markup_plain, wrapped


def shows_no_styles(stream: Any) -> bool:
    """Whether rich's Console (colour system "auto") would write `stream` with no styles and
    plain UTF-8 box characters: not a terminal (nor told it is one by TTY_COMPATIBLE or
    FORCE_COLOR), not Jupyter, not Windows, UTF-8."""
    if sys.platform == "win32" or "IPython" in sys.modules:
        return False
    if os.environ.get("TTY_COMPATIBLE", "") == "1" or "FORCE_COLOR" in os.environ:
        return False
    if os.environ.get("TTY_COMPATIBLE", "") != "0":
        try:
            if stream.isatty():
                return False
        except (AttributeError, ValueError):
            pass
    encoding = (getattr(stream, "encoding", "utf-8") or "utf-8").lower()
    return encoding.startswith("utf")


def rich_console(**settings: Any) -> Any:
    """rich's Console(**settings), but a closed pipe raises BrokenPipeError out of a print:
    rich's own answer, SystemExit(1) from wherever the print was, would decide the command's
    status for it; the CLI ends every closed stdout the same way (ledger/cli/process.py)."""
    return _pipe_console()(**settings)


@functools.cache
def _pipe_console() -> type:
    import errno

    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True  # nothing more to write: the reader has gone
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return PipeConsole


class _Options:
    """What a fitted table reads of rich's ConsoleOptions."""

    legacy_windows = False
    ascii_only = False

    def __init__(self, max_width: int) -> None:
        self.max_width = max_width


class _Capture:
    def __init__(self, console: PlainConsole) -> None:
        self.console = console
        self.text = ""

    def __enter__(self) -> _Capture:
        self.console.captured = []
        return self

    def __exit__(self, *exc: object) -> None:
        self.text = "".join(self.console.captured or [])
        self.console.captured = None

    def get(self) -> str:
        return self.text


class PlainConsole:
    """rich's Console(stderr=stderr, highlight=False, soft_wrap=False, emoji=False,
    width=width) for a stream that shows no styles (see the module docstring)."""

    color_system = None
    _emoji = False
    record = False
    safe_box = True
    legacy_windows = False
    is_terminal = False

    def __init__(self, stderr: bool, width: int) -> None:
        self.stderr = stderr
        self.width = width
        self.captured: list[str] | None = None
        self._rich: Any = None

    @property
    def file(self) -> Any:
        return sys.stderr if self.stderr else sys.stdout

    def rich(self) -> Any:
        """The rich Console this one stands for, made when first needed."""
        if self._rich is None:
            self._rich = rich_console(stderr=self.stderr, highlight=False, soft_wrap=False,
                                      emoji=False, width=self.width)
        return self._rich

    def __getattr__(self, name: str) -> Any:  # anything else rich's Console has
        return getattr(self.rich(), name)

    def capture(self) -> _Capture:
        return _Capture(self)

    def print(self, *objects: Any, markup: bool | None = None, **options: Any) -> None:
        lines = self._lines(objects, markup) if not options else None
        if lines is None:
            self._through_rich(objects, markup, options)
            return
        text = "".join(f"{line}\n" for line in lines)
        if self.captured is not None:
            self.captured.append(text)
        else:
            self.file.write(text)
            self.file.flush()

    def _lines(self, objects: tuple[Any, ...], markup: bool | None) -> list[str] | None:
        if len(objects) != 1:
            return None
        (thing,) = objects
        if isinstance(thing, str):
            text = markup_plain(thing) if markup is not False and "[" in thing else thing
            if text is None:  # markup only rich's own reading settles
                from rich.markup import render

                text = render(thing, emoji=False).plain
            text = text.translate(_CONTROL)
            if not ONE_CELL.issuperset(text.replace("\n", "")):
                return None
            return wrapped(text, self.width)
        plain_lines = getattr(thing, "plain_lines", None)  # a fitted table
        if plain_lines is not None:
            return plain_lines(self, _Options(self.width))
        return None

    def _through_rich(self, objects: tuple[Any, ...], markup: bool | None,
                      options: dict[str, Any]) -> None:
        console = self.rich()
        if self.captured is None:
            console.print(*objects, markup=markup, **options)
            return
        with console.capture() as capture:
            console.print(*objects, markup=markup, **options)
        self.captured.append(capture.get())


_CONTROL = {7: None, 8: None, 11: None, 12: None, 13: None}
"""The control characters rich's Text leaves out (rich.control.STRIP_CONTROL_CODES)."""


